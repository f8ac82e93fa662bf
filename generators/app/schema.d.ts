/**
 * Raw options of `nx g homelab:app`, as schema.json declares them. Name, image and port are
 * required, but asked by the generator itself (checked as typed), so Nx may pass them missing.
 */
export interface AppGeneratorSchema {
  name?: string;
  image?: string;
  port?: number;
  secrets?: string;
  volumes?: string;
  host?: string;
  environments?: string;
  force?: boolean;
}
