/**
 * What the composition root (src/system.ts) takes from the Teams front end. system.ts loads this
 * module with `import()` only when Teams is configured: botbuilder alone adds about 45 MB to the
 * process, which a Slack-only instance never needs (test/process/startup.test.ts holds it).
 */
export { createTeamsAdapter, type TeamsAdapter, type TeamsAdapterSettings } from './adapter.js';
export { createTeamsBot } from './bot.js';
export { TEAMS_PLATFORM } from './conversations.js';
export { TeamsHomeSurface } from './home-surface.js';
export { TeamsIdentity } from './identity.js';
export { TeamsPlatform, type TeamsPlatformDeps } from './platform.js';
export { linkedFormCard } from './request-form.js';
