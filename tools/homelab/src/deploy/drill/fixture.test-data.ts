/**
 * A resolved Compose file (`docker compose config`, as build writes dist/) of an app `files` in
 * dev, shaped as the backup design renders it: a server on host networking with a published
 * port and a file volume `data`, its own PostgreSQL (`db`, `backup: { dump: postgres }`), a cache
 * that is not backed up, a read-write bind mount, a job, a cron service, the scheduler and the
 * two movers `backup-data` and `backup-db` (profile backup) writing to a path target.
 */
export function filesDev(): Record<string, any> {
  const mover = (volume: string, source: string) => ({
    image: 'restic/restic:0.18.0',
    profiles: ['backup'],
    restart: 'no',
    entrypoint: ['/bin/sh', '/homelab/mover'],
    command: ['backup'],
    network_mode: 'none',
    environment: {
      DATA_DIR: '/data',
      FORGET_OPTIONS: '--keep-daily 7 --keep-weekly 4 --keep-monthly 6',
      HOMELAB_VOLUME: volume,
      RESTIC_CACHE_DIR: '/cache',
      RESTIC_HOST: 'volsync',
      RESTIC_REPOSITORY: `/repository/files-dev/${volume}`,
    },
    env_file: [{ path: '.env', required: false }],
    volumes: [
      { type: 'volume', source, target: '/data' },
      { type: 'bind', source: '/var/backups/homelab/restic', target: '/repository' },
      { type: 'volume', source: 'backup-cache', target: '/cache' },
    ],
  });
  return {
    name: 'files-dev',
    services: {
      files: {
        image: 'homelab-test/busybox:1',
        container_name: 'files-live',
        network_mode: 'host',
        ports: [{ target: 8080, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp' }],
        depends_on: { db: { condition: 'service_healthy', required: true }, migrate: { condition: 'service_completed_successfully', required: true } },
        deploy: { replicas: 2 },
        env_file: [{ path: '.env', required: false }],
        volumes: [
          { type: 'volume', source: 'data', target: '/srv/data' },
          { type: 'volume', source: 'cache', target: '/cache' },
          { type: 'bind', source: '/srv/uploads', target: '/uploads' },
          { type: 'bind', source: '/etc/localtime', target: '/etc/localtime', read_only: true },
        ],
        networks: { default: null, 'homelab-dev': null },
      },
      db: {
        image: 'homelab-test/postgres:15',
        healthcheck: { test: ['CMD', 'pg_isready'], interval: '2s' },
        volumes: [{ type: 'volume', source: 'db', target: '/var/lib/postgresql/data' }],
        networks: { default: null },
      },
      metrics: { image: 'homelab-test/busybox:1', network_mode: 'service:files' },
      migrate: { image: 'homelab-test/busybox:1', labels: { 'homelab.kind': 'job' }, volumes: [{ type: 'volume', source: 'data', target: '/srv/data' }] },
      report: { image: 'homelab-test/busybox:1', profiles: ['cron'], labels: { 'homelab.kind': 'cron', 'homelab.schedule': '0 3 * * *' } },
      scheduler: { image: 'homelab-test/docker-cli:1', network_mode: 'none', volumes: [{ type: 'volume', source: 'db-dump', target: '/dumps/db' }] },
      'backup-data': mover('data', 'data'),
      'backup-db': mover('db', 'db-dump'),
    },
    networks: { default: { name: 'files-dev_default' }, 'homelab-dev': { name: 'homelab-dev', external: true } },
    volumes: {
      data: { name: 'files-dev_data' },
      cache: { name: 'files-dev_cache' },
      db: { name: 'files-dev_db' },
      'db-dump': { name: 'files-dev_db-dump' },
      'backup-cache': { name: 'files-dev_backup-cache' },
    },
    'x-homelab': { project: 'files-dev', environment: 'dev', secrets: { keys: [{ key: 'RESTIC_PASSWORD', remoteKey: 'homelab/restic', property: 'password' }], services: ['files', 'backup-data', 'backup-db'] } },
    'x-homelab-database': { name: 'files_dev' },
  };
}
