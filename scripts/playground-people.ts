/**
 * The Microsoft 365 Agents Playground's mock people (its default tenant) and the configuration
 * file (`.m365agentsplayground.yml`) of a Playground client signed in as one of them.
 */
import { stringify } from 'yaml';

/** One of the Playground's mock people (its default tenant). */
export interface PlaygroundPerson {
  key: string;
  id: string;
  name: string;
  email: string;
  aadObjectId: string;
  givenName: string;
  surname: string;
}

function person(n: number, given: string, surname: string, email: string): PlaygroundPerson {
  return {
    key: given.toLowerCase(),
    id: `user-id-${n}`,
    name: `${given} ${surname}`,
    email,
    aadObjectId: `00000000-0000-0000-0000-00000000002${n}`,
    givenName: given,
    surname,
  };
}

/** The Playground's default people; the example policy uses the first three. */
export const PLAYGROUND_PEOPLE = [
  person(0, 'Alex', 'Wilber', 'alexw@example.com'),
  person(1, 'Megan', 'Bowen', 'meganb@example.com'),
  person(2, 'Adele', 'Vance', 'adelev@example.com'),
  person(3, 'Isaiah', 'Langer', 'isaiahl@example.com'),
  person(4, 'Patti', 'Fernandez', 'pattif@example.com'),
  person(5, 'Lynne', 'Robbins', 'lynner@example.com'),
] as const;

const [ALEX, MEGAN] = PLAYGROUND_PEOPLE;
/** Who gets a Playground window, in port order: the requester, then an approver. */
export const SIGNED_IN = [ALEX, MEGAN];

/** The Playground's configuration file for a client whose signed-in person is `me`. */
export function playgroundConfig(me: PlaygroundPerson): string {
  const user = (p: PlaygroundPerson) => ({
    id: p.id,
    name: p.name,
    userPrincipleName: p.email,
    aadObjectId: p.aadObjectId,
    givenName: p.givenName,
    surname: p.surname,
    email: p.email,
  });
  const config = {
    version: '0.1.1',
    tenantId: '00000000-0000-0000-0000-0000000000001',
    bot: { id: '00000000-0000-0000-0000-00000000000011', name: 'JIT Access' },
    currentUser: user(me),
    users: PLAYGROUND_PEOPLE.filter((p) => p.id !== me.id).map(user),
    personalChat: { id: `personal-chat-${me.key}` },
    groupChat: { id: `group-chat-${me.key}`, name: 'Group Chat' },
    team: {
      id: 'team-id',
      name: 'My Team',
      aadGroupId: '00000000-0000-0000-0000-000000000031',
      channels: [{ id: 'channel-announcements-id', name: 'Announcements' }],
    },
  };
  return `# Written by scripts/playground.ts: the Agents Playground signed in as ${me.name}.\n${stringify(config)}`;
}
