/** The Nx migrations of homelab, each named in tools/homelab/migrations.json as `./src/migrations/load.js#<export>`. */
export { default as hostsPerEnvironment } from './hosts-per-environment';
export { default as monitoringExporters } from './monitoring-exporters';
export { default as composeNetworkMode } from './compose-network-mode';
export { default as backupComposeRestic } from './backup-compose-restic';
