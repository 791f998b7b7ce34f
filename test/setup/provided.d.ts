// What test/setup/mongo-probe.ts provides to every test file (read with `inject`).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A MongoDB URI the tests may use, or null when none is reachable. */
    mongoUri: string | null;
    /** Why `mongoUri` is null (empty when it is not). */
    mongoSkipReason: string;
  }
}
