/** Raw options of `nx g homelab:remove`, as schema.json declares them. */
export interface RemoveGeneratorSchema {
  name: string;
  all?: boolean;
}
