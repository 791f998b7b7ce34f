/** People are identified by email, compared trimmed and lower-cased everywhere (one rule, one place). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
