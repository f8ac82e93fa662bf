/** Raw options of `nx g homelab:app`, as schema.json declares them. */
export interface AppGeneratorSchema {
  name: string;
  image: string;
  port: number;
  secrets?: string;
  volumes?: string;
  host?: string;
  environments?: string;
  force?: boolean;
}
