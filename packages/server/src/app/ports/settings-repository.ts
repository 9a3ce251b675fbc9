export interface SettingsRepository {
  /** The stored value, or stores `create()` and returns it. Safe when several instances race on first start. */
  getOrCreate(key: string, create: () => string): Promise<string>;
}
