/**
 * The home: what a person sees of their access in one place (Slack's App Home tab; a "my access"
 * card in Teams), as a neutral view. Built by src/domain/home/build.ts; rendered per platform.
 * Every string is plain text (renderers escape it).
 */
import type { ViewAction, ViewField } from './model.js';

/** The lists of the home, each paged on its own. */
export const HOME_SECTIONS = ['grants', 'pending', 'decisions', 'history', 'dashboard'] as const;
export type HomeSectionId = (typeof HOME_SECTIONS)[number];

export interface HomeItem {
  /** The row's first line (who, what). */
  title: string;
  lines?: string[];
  fields?: ViewField[];
  actions?: ViewAction[];
}

/** At most this many choices in one filter (Slack's select limit; Teams' choice sets are shown alike). */
export const FILTER_CHOICES_MAX = 100;

export interface HomeChoice {
  label: string;
  value: string;
}

/** A filter of a list: a choice, a person, or a date (YYYY-MM-DD in the viewer's zone). */
export type HomeFilter =
  | {
      kind: 'choice';
      id: string;
      label: string;
      placeholder: string;
      /** Options, in groups when the titles matter (resources by group). */
      groups: Array<{ title?: string; options: HomeChoice[] }>;
      selected?: HomeChoice;
    }
  | { kind: 'person'; id: string; label: string; placeholder: string; selected?: string }
  | { kind: 'date'; id: string; label: string; placeholder: string; selected?: string };

export interface HomeSectionView {
  id: HomeSectionId;
  title: string;
  /** Says what is shown of how many ("Showing 6–10 of 23."), so nothing is cut off silently. */
  note?: string;
  filters?: HomeFilter[];
  /** Buttons under the filters (e.g. clear them). */
  filterActions?: ViewAction[];
  items: HomeItem[];
  /** Shown when there are no items. */
  empty: string;
  /** Previous / Next. */
  pager?: ViewAction[];
}

export interface HomeView {
  title: string;
  lines: string[];
  actions: ViewAction[];
  sections: HomeSectionView[];
}

/** "Showing 6–10 of 23." for a page of a list. */
export function showing(from: number, count: number, total: number): string | undefined {
  if (total <= count && from === 0) return undefined;
  if (count === 0) return `Nothing on this page; ${total} in all.`;
  return `Showing ${from + 1}–${from + count} of ${total}.`;
}

/** "3 h 05 min left", "2 days 4 h left", "less than a minute left". */
export function timeLeft(now: Date, until: Date): string {
  const minutes = Math.floor((until.getTime() - now.getTime()) / 60_000);
  if (minutes < 1) return 'less than a minute left';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days} day${days === 1 ? '' : 's'}${hours ? ` ${hours} h` : ''} left`;
  if (hours > 0) return `${hours} h ${String(mins).padStart(2, '0')} min left`;
  return `${mins} min left`;
}
