/**
 * Type-ahead search for the pickers of the request form (resources, approvers), the same for every
 * platform. A query matches when each of its words, in any order, starts a word of the candidate's
 * searchable text (name, id, group; an approver's name and email), ignoring case and accents, or
 * appears anywhere in it. Best matches first: exact id or name, then names that start with the
 * query, then whole-word matches, then the rest, each by name.
 */

export interface Searchable {
  value: string;
  label: string;
  /** Shown as the heading the option sits under (a resource's group). */
  group?: string;
  /** Further words to match (an id, an email). */
  keywords?: string[];
}

export interface SearchResult<T extends Searchable> {
  matches: T[];
  /** How many matched in all (more than `matches.length` when the list was cut). */
  total: number;
}

/** Lower-case, accents stripped, runs of non-letters and non-digits as single spaces. */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[øłßæœđþ]/g, (c) => UNDECOMPOSED[c] ?? c)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Letters that carry no separable accent, written as they are typed without one. */
const UNDECOMPOSED: Record<string, string> = {
  ø: 'o',
  ł: 'l',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  đ: 'd',
  þ: 'th',
};

interface Indexed<T> {
  item: T;
  label: string;
  words: string[];
  text: string;
  exact: string[];
}

/** A catalogue prepared once for many searches (thousands of resources). */
export class SearchIndex<T extends Searchable> {
  private readonly entries: Indexed<T>[];

  constructor(items: readonly T[]) {
    this.entries = items.map((item) => {
      const parts = [item.label, item.value, item.group ?? '', ...(item.keywords ?? [])].map(fold);
      const text = parts.join(' ');
      return {
        item,
        label: fold(item.label),
        words: text.split(' '),
        text,
        exact: [fold(item.value), fold(item.label)],
      };
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** The best `limit` matches of `query` among the items `allowed` accepts (all by default). */
  search(query: string, limit: number, allowed: (item: T) => boolean = () => true): SearchResult<T> {
    const q = fold(query);
    const terms = q ? q.split(' ') : [];
    const scored: Array<{ entry: Indexed<T>; score: number }> = [];
    for (const entry of this.entries) {
      if (!allowed(entry.item)) continue;
      let score = 0;
      let all = true;
      for (const term of terms) {
        if (entry.words.some((w) => w.startsWith(term))) score += 2;
        else if (entry.text.includes(term)) score += 1;
        else {
          all = false;
          break;
        }
      }
      if (!all) continue;
      if (q && entry.exact.includes(q)) score += 100;
      else if (q && entry.label.startsWith(q)) score += 50;
      scored.push({ entry, score });
    }
    scored.sort((a, b) => b.score - a.score || a.entry.label.localeCompare(b.entry.label));
    return { matches: scored.slice(0, Math.max(0, limit)).map((s) => s.entry.item), total: scored.length };
  }
}
