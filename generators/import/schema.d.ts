/** Raw options of `nx g homelab:import`, as schema.json declares them. */
export interface ImportGeneratorSchema {
  name: string;
  file: string;
  envFile?: string;
  strict?: boolean;
  adopt?: string;
}
