/**
 * Renders the neutral home (src/domain/views/home.ts) as Slack's App Home tab (`views.publish`).
 * Only how Slack shows it lives here. A home holds at most 100 blocks: the lists are paged small
 * enough to fit (src/domain/home), and should a page still not fit, the rows that do not fit are
 * replaced by a line saying so, never dropped silently.
 */
import type { ActionsBlock, KnownBlock, PlainTextOption, HomeView as SlackHomeView } from '@slack/types';
import type { HomeFilter, HomeItem, HomeSectionView, HomeView } from '../../domain/views/home.js';
import { LIMITS, truncate } from './limits.js';
import { escapeMrkdwn, renderButton } from './render.js';

/** Slack user ids by email, for the person filter's initial user. */
export type SlackIdOf = (email: string) => string | undefined;

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncate(text, max) });
const mrkdwn = (text: string) => ({
  type: 'mrkdwn' as const,
  text: truncate(text, LIMITS.sectionText),
  verbatim: true,
});
const option = (label: string, value: string): PlainTextOption => ({
  text: plain(label, LIMITS.optionText),
  value: truncate(value, LIMITS.optionValue),
});

function filterElement(f: HomeFilter, slackIdOf: SlackIdOf): ActionsBlock['elements'][number] {
  switch (f.kind) {
    case 'choice': {
      let left = LIMITS.options;
      const groups = f.groups
        .map((g) => {
          const options = g.options.slice(0, Math.max(0, left)).map((o) => option(o.label, o.value));
          left -= options.length;
          return { title: g.title, options };
        })
        .filter((g) => g.options.length > 0);
      const initial = f.selected ? option(f.selected.label, f.selected.value) : undefined;
      const titled = groups.length > 1 || groups.some((g) => g.title);
      return {
        type: 'static_select',
        action_id: f.id,
        placeholder: plain(f.placeholder, LIMITS.optionText),
        ...(titled
          ? {
              option_groups: groups.map((g) => ({
                label: plain(g.title ?? 'Other', LIMITS.optionText),
                options: g.options,
              })),
            }
          : { options: groups.flatMap((g) => g.options) }),
        ...(initial && groups.some((g) => g.options.some((o) => o.value === initial.value))
          ? { initial_option: initial }
          : {}),
      };
    }
    case 'person': {
      const initial = f.selected ? slackIdOf(f.selected) : undefined;
      return {
        type: 'users_select',
        action_id: f.id,
        placeholder: plain(f.placeholder, LIMITS.optionText),
        ...(initial ? { initial_user: initial } : {}),
      };
    }
    case 'date':
      return {
        type: 'datepicker',
        action_id: f.id,
        placeholder: plain(f.placeholder, LIMITS.optionText),
        ...(f.selected ? { initial_date: f.selected } : {}),
      };
  }
}

function itemBlocks(item: HomeItem, blockId: string): KnownBlock[] {
  const text = [`*${escapeMrkdwn(item.title)}*`, ...(item.lines ?? []).map(escapeMrkdwn)].join('\n');
  const fields = (item.fields ?? []).slice(0, LIMITS.fields).map((f) => ({
    type: 'mrkdwn' as const,
    verbatim: true,
    text: truncate(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, LIMITS.fieldText),
  }));
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      block_id: `${blockId}.text`,
      text: mrkdwn(text),
      ...(fields.length ? { fields } : {}),
    },
  ];
  if (item.actions?.length) {
    blocks.push({
      type: 'actions',
      block_id: `${blockId}.actions`,
      elements: item.actions.slice(0, LIMITS.actionsElements).map(renderButton),
    });
  }
  return blocks;
}

function sectionBlocks(s: HomeSectionView, slackIdOf: SlackIdOf, room: number): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'divider', block_id: `${s.id}.divider` },
    { type: 'header', block_id: `${s.id}.header`, text: plain(s.title, LIMITS.headerText) },
  ];
  if (s.filters?.length || s.filterActions?.length) {
    blocks.push({
      type: 'actions',
      block_id: `${s.id}.filters`,
      elements: [
        ...(s.filters ?? []).map((f) => filterElement(f, slackIdOf)),
        ...(s.filterActions ?? []).map(renderButton),
      ],
    });
  }
  const tail: KnownBlock[] = [];
  if (s.pager?.length) {
    tail.push({ type: 'actions', block_id: `${s.id}.pager`, elements: s.pager.map(renderButton) });
  }
  const notes: string[] = s.note ? [s.note] : [];
  if (s.items.length === 0) notes.push(s.empty);
  const body: KnownBlock[] = [];
  let shown = 0;
  for (const [i, item] of s.items.entries()) {
    const next = itemBlocks(item, `${s.id}.${i}`);
    // Room for this row, the note and the pager; otherwise say what is left out.
    if (blocks.length + body.length + next.length + 1 + tail.length > room) break;
    body.push(...next);
    shown++;
  }
  if (shown < s.items.length) {
    notes.push(
      `${s.items.length - shown} more on this page could not be shown here; use the filters or Next.`,
    );
  }
  const note: KnownBlock[] = notes.length
    ? [{ type: 'context', block_id: `${s.id}.note`, elements: [mrkdwn(escapeMrkdwn(notes.join(' ')))] }]
    : [];
  return [...blocks, ...note, ...body, ...tail];
}

export function renderHome(view: HomeView, slackIdOf: SlackIdOf = () => undefined): SlackHomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', block_id: 'home.header', text: plain(view.title, LIMITS.headerText) },
    ...view.lines.map((line, i) => ({
      type: 'section' as const,
      block_id: `home.line.${i}`,
      text: mrkdwn(escapeMrkdwn(line)),
    })),
  ];
  if (view.actions.length) {
    blocks.push({ type: 'actions', block_id: 'home.actions', elements: view.actions.map(renderButton) });
  }
  // Each list gets an equal share of what is left of the 100 blocks, and what one leaves over goes on.
  let left = LIMITS.blocksInModal - blocks.length;
  view.sections.forEach((s, i) => {
    const share = Math.floor(left / (view.sections.length - i));
    const rendered = sectionBlocks(s, slackIdOf, share);
    blocks.push(...rendered);
    left -= rendered.length;
  });
  return { type: 'home', blocks };
}
