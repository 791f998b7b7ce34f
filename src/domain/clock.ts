/** Time is injected everywhere: the domain, jobs and signature checks take a Clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to. For tests and the demo. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-11-23T09:00:00Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: Date): void {
    this.current = to.getTime();
  }
  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}
