/**
 * @sibyl/settings: an app's settings declared once (flag, variable, kind, default, help), read from
 * command-line flags and `SIBYL_*` environment variables, validated, frozen (STYLE.md §6). Bad
 * configuration throws SIBYL_CONFIG_FLAG_INVALID with a message naming the setting.
 */
export type { SettingDeclaration, SettingKind, Settings, SettingsTable, SettingValue } from './setting.js';
export { defineSettings, helpRequested, readSettings } from './read-settings.js';
export { parseValue, settingLabel } from './parse-value.js';
export { renderHelp } from './help-text.js';
export { COMMON_SETTINGS } from './common-settings.js';
export { configInvalid } from './errors.js';
