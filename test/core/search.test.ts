import { describe, expect, it } from 'vitest';
import { fold, type Searchable, SearchIndex } from '../../src/core/forms/search.js';

const item = (value: string, label: string, extra: Partial<Searchable> = {}): Searchable => ({
  value,
  label,
  ...extra,
});

const values = (found: { matches: Searchable[] }) => found.matches.map((m) => m.value);

describe('fold', () => {
  it('lower-cases and strips accents', () => {
    expect(fold('Zürich')).toBe('zurich');
    expect(fold('Crème Brûlée')).toBe('creme brulee');
    expect(fold('SÃO PAULO')).toBe('sao paulo');
    expect(fold('Ålesund')).toBe('alesund');
  });

  it('turns each run of punctuation and spaces into one space, and trims', () => {
    expect(fold('  acme--prod / EU  ')).toBe('acme prod eu');
    expect(fold('Acme Corp — production tenant')).toBe('acme corp production tenant');
    expect(fold('db_01.eu-west')).toBe('db 01 eu west');
  });

  it('keeps letters and digits of every script', () => {
    expect(fold('東京 Ops 2')).toBe('東京 ops 2');
  });

  it('folds nothing but punctuation to an empty string', () => {
    expect(fold(' — / ')).toBe('');
  });
});

describe('searching a catalogue', () => {
  const catalogue = new SearchIndex([
    item('zurich-proddb-1', 'Zürich production database 1', { group: 'Zürich Versicherung' }),
    item('zurich-stagedb-1', 'Zürich staging database 1', { group: 'Zürich Versicherung' }),
    item('zurich-billing-api-1', 'Zürich billing API 1', { group: 'Zürich Versicherung' }),
    item('acme-proddb-1', 'Acme production database 1', { group: 'Acme Corp' }),
    item('acme-vpn-1', 'Acme VPN gateway 1', { group: 'Acme Corp' }),
  ]);

  it('finds a candidate whatever the order of the words', () => {
    for (const query of ['zurich production', 'production zurich', 'database 1 prod zur']) {
      expect(values(catalogue.search(query, 10)), query).toEqual(['zurich-proddb-1']);
    }
  });

  it('ignores case and accents, in the query and in the candidates', () => {
    for (const query of ['ZURICH BILLING', 'zürich billing', 'ZÜRİCH Billing', 'zurich billing']) {
      expect(values(catalogue.search(query, 10)), query).toEqual(['zurich-billing-api-1']);
    }
  });

  it('needs every word to match somewhere', () => {
    expect(catalogue.search('zurich vpn', 10)).toEqual({ matches: [], total: 0 });
  });

  it('matches the id and the group as well as the name', () => {
    expect(values(catalogue.search('billing-api', 10))).toEqual(['zurich-billing-api-1']);
    expect(values(catalogue.search('versicherung', 10))).toEqual([
      'zurich-billing-api-1',
      'zurich-proddb-1',
      'zurich-stagedb-1',
    ]);
  });

  it('matches a word in the middle of another', () => {
    expect(values(catalogue.search('abase', 10))).toEqual([
      'acme-proddb-1',
      'zurich-proddb-1',
      'zurich-stagedb-1',
    ]);
  });

  it('matches keywords, such as an email', () => {
    const people = new SearchIndex([
      item('zoe@example.com', 'Zoë Moreau (zoe@example.com)', { keywords: ['zoe@example.com'] }),
      item('jose@example.com', 'José Núñez (jose@example.com)', { keywords: ['jose@example.com'] }),
    ]);
    expect(values(people.search('nunez', 10))).toEqual(['jose@example.com']);
    expect(values(people.search('zoe@exa', 10))).toEqual(['zoe@example.com']);
  });
});

describe('the order of the matches', () => {
  it('puts a word that starts with the query before one that only contains it', () => {
    // Alphabetically "Metabase reports" comes first; it only contains "base".
    const index = new SearchIndex([item('meta', 'Metabase reports'), item('nightly', 'Nightly baseline')]);
    expect(values(index.search('base', 10))).toEqual(['nightly', 'meta']);
  });

  it('puts a name that starts with the query before one with the word further in', () => {
    const index = new SearchIndex([item('acme-billing', 'Acme billing'), item('billing-api', 'Billing API')]);
    expect(values(index.search('billing', 10))).toEqual(['billing-api', 'acme-billing']);
  });

  it('puts an exact id first, before names that start with the query', () => {
    const index = new SearchIndex([
      item('acme-tools', 'Acme tools'),
      item('acme-portal', 'Acme portal'),
      item('acme', 'Zeta tenant'),
    ]);
    expect(values(index.search('acme', 10))).toEqual(['acme', 'acme-portal', 'acme-tools']);
  });

  it('puts an exact name first, ignoring case and accents', () => {
    const index = new SearchIndex([
      item('a', 'Audit vault'),
      item('b', 'Backup of the vault'),
      item('c', 'Väult'),
    ]);
    expect(values(index.search('VAULT', 10))[0]).toBe('c');
  });

  it('orders equally good matches by name', () => {
    const index = new SearchIndex([item('c', 'Charlie db'), item('a', 'Alpha db'), item('b', 'Bravo db')]);
    expect(values(index.search('db', 10))).toEqual(['a', 'b', 'c']);
  });

  it('lists everything by name for an empty query', () => {
    const index = new SearchIndex([item('c', 'Charlie'), item('a', 'Älpha'), item('b', 'bravo')]);
    expect(values(index.search('', 10))).toEqual(['a', 'b', 'c']);
    expect(values(index.search('   ', 10))).toEqual(['a', 'b', 'c']);
  });
});

describe('limits and filters', () => {
  const many = new SearchIndex(
    Array.from({ length: 250 }, (_, i) => {
      const n = String(i).padStart(3, '0');
      return item(`r${n}`, `Resource ${n}`, { group: i % 2 ? 'Odd' : 'Even' });
    }),
  );

  it('returns at most `limit` matches and counts them all', () => {
    const found = many.search('resource', 10);
    expect(values(found)).toEqual([
      'r000',
      'r001',
      'r002',
      'r003',
      'r004',
      'r005',
      'r006',
      'r007',
      'r008',
      'r009',
    ]);
    expect(found.total).toBe(250);
  });

  it('returns no matches for a limit of zero or less, and still counts them', () => {
    expect(many.search('resource', 0)).toEqual({ matches: [], total: 250 });
    expect(many.search('resource', -5)).toEqual({ matches: [], total: 250 });
  });

  it('leaves out, and does not count, what the predicate refuses', () => {
    const found = many.search('resource', 3, (i) => i.group === 'Odd');
    expect(values(found)).toEqual(['r001', 'r003', 'r005']);
    expect(found.total).toBe(125);
    expect(many.search('even', 3, (i) => i.group === 'Odd')).toEqual({ matches: [], total: 0 });
  });

  it('has the size of the catalogue', () => {
    expect(many.size).toBe(250);
  });
});
