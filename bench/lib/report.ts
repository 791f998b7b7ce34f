/**
 * What a bench run reports: table rows (measure, result, target, meaning) and the figures written
 * to `bench-results.json`. A measurement that fails is reported as failed; the run goes on and
 * never fails on a number.
 */
import { writeFileSync } from 'node:fs';

export interface Row {
  what: string;
  value: string;
  target?: string;
  meaning: string;
}

export type Figures = Record<string, number | boolean | string | null>;

export class Report {
  readonly rows: Row[] = [];
  readonly figures: Figures = {};
  readonly failures: string[] = [];

  row(what: string, value: string, meaning: string, target?: string): void {
    this.rows.push({ what, value, meaning, ...(target ? { target } : {}) });
  }

  set(figures: Figures): void {
    Object.assign(this.figures, figures);
  }

  failed(section: string, error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.failures.push(`${section}: ${text}`);
    this.row(section, 'FAILED', (error instanceof Error ? error.message : String(error)).slice(0, 160));
  }

  table(): string {
    const w = [
      Math.max('measure'.length, ...this.rows.map((r) => r.what.length)),
      Math.max('result'.length, ...this.rows.map((r) => r.value.length)),
      Math.max('target'.length, ...this.rows.map((r) => (r.target ?? '').length)),
    ];
    const line = (a: string, b: string, c: string, d: string) =>
      `${a.padEnd(w[0] ?? 0)}  ${b.padStart(w[1] ?? 0)}  ${c.padEnd(w[2] ?? 0)}  ${d}`;
    return [
      line('measure', 'result', 'target', 'what it means'),
      line('-'.repeat(w[0] ?? 0), '-'.repeat(w[1] ?? 0), '-'.repeat(w[2] ?? 0), '-------------'),
      ...this.rows.map((r) => line(r.what, r.value, r.target ?? '', r.meaning)),
    ].join('\n');
  }

  write(file: string, meta: Figures): void {
    writeFileSync(
      file,
      `${JSON.stringify({ ...this.figures, ...meta, failures: this.failures }, null, 2)}\n`,
    );
  }
}
