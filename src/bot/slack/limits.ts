/** Block Kit limits (Slack's reference), named once, with one truncation helper. */
export const LIMITS = {
  blocksInMessage: 50,
  blocksInModal: 100,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  optionText: 75,
  optionValue: 150,
  options: 100,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  contextText: 3000,
  plainTextInput: 3000,
  messageText: 4000,
  /** actions in one `actions` block */
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** how much of a justification the form carries in private_metadata (the rest is in the view state) */
  metaJustification: 1500,
  /** ids (resource, grant) the form's metadata may carry */
  metaId: 200,
  /** an ISO-8601 duration in the form's metadata */
  metaDuration: 50,
  /** what a type-ahead query is cut to before searching */
  searchQuery: 100,
  /** an email address (RFC 5321's limit) */
  email: 320,
} as const;

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * `truncate` for escaped mrkdwn: never cuts an entity in half (`&lt;` cut to `&l…` would show as
 * `&l…`, and escaping can make typed text four times longer, so cuts land in entities often).
 */
export function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).replace(/&[a-z]*$/, '')}…`;
}
