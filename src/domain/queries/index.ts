/** The read model: every read takes the asking person (see ./visibility.ts). */
export {
  DEFAULT_PAGE_SIZE,
  GRANT_LIST_STATUSES,
  type GrantFilter,
  type GrantListStatus,
  type GrantPage,
  type GrantRow,
  MAX_PAGE_SIZE,
  type PageRequest,
} from './grants.js';
export {
  type AccessUse,
  type HistoryEntry,
  type HistoryKind,
  type HistoryPage,
  USE_CLOCK_SKEW_MS,
} from './history.js';
export { REPORT_MAX_ROWS, type Report, type ReportRow } from './report.js';
export type { GrantTimeline, TimelineEntry, TimelineStep } from './timeline.js';
export { canSeeGrant, canSeeResource, type Viewer, viewerOf } from './visibility.js';
