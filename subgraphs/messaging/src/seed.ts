import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DEMO } from '@portal/demo';
import {
  DraftEntity,
  MessageEntity,
  ReaderStateEntity,
  ThreadEntity,
  type DraftRow,
  type MessageCategory,
  type MessageRow,
  type ReaderStateRow,
  type RecordSource,
  type Sensitivity,
  type ThreadRow,
} from './db/entities';

const DAY = 86_400_000;
const JANE = { id: DEMO.jane, role: 'PATIENT', name: 'Jane Doe' } as const;
const JOHN = { id: DEMO.john, role: 'PATIENT', name: 'John Roe' } as const;
const ALEX = { id: DEMO.alex, role: 'PRACTITIONER', name: 'Dr. Alex Kim' } as const;
// Senders who are not in the demo cast: their names were stored with their messages.
const MORGAN = { id: 'pr-green-morgan-diaz', role: 'PRACTITIONER', name: 'Morgan Diaz, LCSW' } as const;
const TOL_PROVIDER = { id: 'tol-provider-lopez', role: 'PRACTITIONER', name: 'Dr. Maria Lopez (TRICARE Online)' } as const;

type Sender = { id: string; role: MessageRow['senderRole']; name: string };
type DemoMessage = [Sender, string, string];

interface DemoThread {
  id: string;
  patientId: string;
  careTeamId: string;
  subject: string;
  category: MessageCategory;
  source?: RecordSource;
  /** NORMAL unless given: a sensitive thread is hidden from a proxy whose grant hides sensitive records. */
  sensitivity?: Sensitivity;
  messages: DemoMessage[];
  /** reader id -> [last read at, archived at] */
  readers?: Record<string, [string | null, string | null]>;
}

function threadRows(t: DemoThread): { thread: ThreadRow; messages: MessageRow[]; readers: ReaderStateRow[] } {
  const messages = t.messages.map(([sender, sentAt, body], i) => ({
    id: `${t.id.replace(/^th-/, 'msg-')}-${i + 1}`,
    threadId: t.id,
    senderId: sender.id,
    senderRole: sender.role,
    senderName: sender.name,
    body,
    sentAt,
    idempotencyKey: null,
  }));
  const thread: ThreadRow = {
    id: t.id,
    patientId: t.patientId,
    careTeamId: t.careTeamId,
    subject: t.subject,
    category: t.category,
    source: t.source ?? 'MHS_GENESIS',
    state: 'OPEN',
    sensitivity: t.sensitivity ?? 'NORMAL',
    createdAt: messages[0].sentAt,
    lastMessageAt: messages[messages.length - 1].sentAt,
  };
  const readers = Object.entries(t.readers ?? {}).map(([readerId, [lastReadAt, archivedAt]]) => ({ threadId: t.id, readerId, lastReadAt, archivedAt }));
  return { thread, messages, readers };
}

async function insertThreads(tx: EntityManager, threads: DemoThread[], drafts: DraftRow[] = []): Promise<void> {
  const rows = threads.map(threadRows);
  // Chunks keep each INSERT under SQLite's limit of bound parameters.
  const chunked = async <T>(insert: (chunk: T[]) => Promise<unknown>, all: T[]) => {
    for (let i = 0; i < all.length; i += 100) await insert(all.slice(i, i + 100));
  };
  await chunked((c) => tx.getRepository(ThreadEntity).insert(c), rows.map((r) => r.thread));
  await chunked((c) => tx.getRepository(MessageEntity).insert(c), rows.flatMap((r) => r.messages));
  await chunked((c) => tx.getRepository(ReaderStateEntity).insert(c), rows.flatMap((r) => r.readers));
  await chunked((c) => tx.getRepository(DraftEntity).insert(c), drafts);
}

/**
 * The demo cast's threads (contract/README.md), dated relative to `now`.
 * Idempotent: does nothing when already seeded.
 */
export async function seedDemo(db: DataSource, now: Date = new Date()): Promise<void> {
  // Added later than Jane's: a database seeded before gets them on its next run.
  if (!(await db.getRepository(ThreadEntity).findOneBy({ id: 'th-emma-care' }))) await seedChildren(db, now);
  if (await db.getRepository(ThreadEntity).findOneBy({ id: 'th-jane-unread' })) return;
  const ago = (days: number, hours = 0) => new Date(now.getTime() - days * DAY - hours * 3_600_000).toISOString();
  const blue = DEMO.careTeamBlue;
  const threads: DemoThread[] = [
    {
      // Unread for Jane: Alex answered after she last read the thread.
      id: 'th-jane-unread',
      patientId: JANE.id,
      careTeamId: blue,
      subject: 'Home blood pressure readings',
      category: 'TEST_RESULT',
      messages: [
        [JANE, ago(3), 'My home cuff showed 142/91 this morning & 138/88 tonight. The app exported it as <b>markup</b> "bold" text. Should I worry?'],
        [ALEX, ago(2), 'Thanks for tracking these, Jane. Please keep a log for two weeks and bring the cuff to your next visit so we can check it against ours.'],
      ],
      readers: { [JANE.id]: [ago(3), null], [ALEX.id]: [ago(2), null] },
    },
    {
      id: 'th-jane-read',
      patientId: JANE.id,
      careTeamId: blue,
      subject: 'Time for your annual flu vaccine',
      category: 'APPOINTMENT',
      messages: [[ALEX, ago(10), 'Flu vaccines are available at Family Health Clinic on weekday mornings, no appointment needed.']],
      readers: { [JANE.id]: [ago(9), null] },
    },
    {
      // Newest message 60 days old: past the 45-day reply window. Alex has not read Jane's last message.
      id: 'th-jane-old',
      patientId: JANE.id,
      careTeamId: blue,
      subject: 'Side effects of lisinopril',
      category: 'MEDICATION',
      messages: [
        [ALEX, ago(61), 'A dry cough is a common side effect of lisinopril. Let us know if it keeps you up at night.'],
        [JANE, ago(60), 'Thanks, the cough is mild. I will keep taking it.'],
      ],
      readers: { [JANE.id]: [ago(60), null], [ALEX.id]: [ago(61), null] },
    },
    {
      // Archived by Jane, not by Alex: archive state is per reader.
      id: 'th-jane-archived',
      patientId: JANE.id,
      careTeamId: blue,
      subject: 'Healthy sleep habits',
      category: 'EDUCATION',
      messages: [[ALEX, ago(30), 'As discussed, here are a few tips: keep a regular bedtime, and avoid screens for an hour before sleep.']],
      readers: { [JANE.id]: [ago(29), ago(29)] },
    },
    {
      // Carried over from TRICARE Online: shown, marked with its source, read-only.
      id: 'th-jane-legacy',
      patientId: JANE.id,
      careTeamId: blue,
      subject: 'Sports physical form',
      category: 'GENERAL',
      source: 'TRICARE_ONLINE',
      messages: [
        [JANE, '2019-05-02T14:10:00.000Z', 'Could you sign the sports physical form for my softball league?'],
        [TOL_PROVIDER, '2019-05-03T09:25:00.000Z', 'Signed and left at the front desk for pick-up.'],
      ],
      readers: { [JANE.id]: ['2019-05-03T18:00:00.000Z', null], [ALEX.id]: ['2024-01-15T12:00:00.000Z', null] },
    },
    {
      id: 'th-jane-green',
      patientId: JANE.id,
      careTeamId: DEMO.careTeamGreen,
      subject: 'Scheduling a counseling session',
      category: 'APPOINTMENT',
      messages: [
        [JANE, ago(5), 'I would like to set up a counseling session, preferably in the afternoon.'],
        [MORGAN, ago(4), 'Happy to help. I have Tuesday or Thursday afternoons open; call us or book online.'],
      ],
      readers: { [JANE.id]: [ago(4, -2), null] },
    },
    {
      // Unread for Alex: nobody on the team has read it yet.
      id: 'th-john-records',
      patientId: JOHN.id,
      careTeamId: blue,
      subject: 'Records from my active duty years',
      category: 'GENERAL',
      messages: [[JOHN, ago(1), 'Can you confirm that my records from 2004-2012 are in my file?']],
      readers: { [JOHN.id]: [ago(1), null] },
    },
  ];
  const drafts: DraftRow[] = [
    {
      id: 'dr-jane-unread',
      authorId: JANE.id,
      patientId: JANE.id,
      careTeamId: blue,
      threadId: 'th-jane-unread',
      category: null,
      subject: null,
      body: 'Will do. Should I measure before or after',
      createdAt: ago(1),
      updatedAt: ago(1),
    },
  ];
  await db.transaction((tx) => insertThreads(tx, threads, drafts));
}

const EMMA = { id: DEMO.emma, role: 'PATIENT', name: 'Emma Doe' } as const;
const LIAM = { id: DEMO.liam, role: 'PATIENT', name: 'Liam Doe' } as const;

/**
 * Jane's children, whose records Jane sees as their parent (proxy access):
 * each a thread with care team Blue; Liam (15) also a BEHAVIORAL_HEALTH thread
 * with team Green, which his parent never sees.
 */
async function seedChildren(db: DataSource, now: Date): Promise<void> {
  const ago = (days: number, hours = 0) => new Date(now.getTime() - days * DAY - hours * 3_600_000).toISOString();
  const blue = DEMO.careTeamBlue;
  const threads: DemoThread[] = [
    {
      id: 'th-emma-care',
      patientId: EMMA.id,
      careTeamId: blue,
      subject: 'School immunization form',
      category: 'GENERAL',
      messages: [
        [EMMA, ago(6), 'My school needs my immunization record before the field trip. Can you send it?'],
        [ALEX, ago(5), 'Hi Emma, the form is ready. Your parent can download it from your record, or pick it up at the front desk.'],
      ],
      readers: { [EMMA.id]: [ago(5, -1), null] },
    },
    {
      id: 'th-liam-care',
      patientId: LIAM.id,
      careTeamId: blue,
      subject: 'Ankle still sore after practice',
      category: 'APPOINTMENT',
      messages: [
        [LIAM, ago(4), 'My ankle still hurts after basketball practice. Should I keep the brace on?'],
        [ALEX, ago(3), 'Keep the brace on during practice and ice it afterwards. We will look at it at your follow-up.'],
      ],
      readers: { [LIAM.id]: [ago(4), null] },
    },
    {
      id: 'th-liam-counseling',
      patientId: LIAM.id,
      careTeamId: DEMO.careTeamGreen,
      subject: 'Talking to someone',
      category: 'APPOINTMENT',
      sensitivity: 'BEHAVIORAL_HEALTH',
      messages: [
        [LIAM, ago(2), 'I have been feeling really stressed and would like to talk to a counselor.'],
        [MORGAN, ago(1), 'Thank you for reaching out, Liam. I can see you on Wednesday after school; this stays between you and your care team.'],
      ],
      readers: { [LIAM.id]: [ago(1, -1), null] },
    },
  ];
  await db.transaction((tx) => insertThreads(tx, threads));
}

export interface ScalePatient {
  patientId: string;
  /** Rows per list: threads in each folder, and messages per thread stay at two. */
  count: number;
}

/**
 * A synthetic patient of care team Blue with `count` threads in each folder:
 * `count` in the inbox (each with a reply from Alex, read or not, and a reply
 * draft, so SENT and DRAFTS have them too) and `count` archived.
 */
export async function seedScalePatient(db: DataSource, s: ScalePatient): Promise<void> {
  const base = Date.now() - 30 * DAY;
  const patient: Sender = { id: s.patientId, role: 'PATIENT', name: `Synthetic Patient ${s.patientId.slice(-6)}` };
  const threads: DemoThread[] = [];
  const drafts: DraftRow[] = [];
  for (let i = 0; i < 2 * s.count; i++) {
    const at = (minutes: number) => new Date(base + i * 60_000 * 10 + minutes * 60_000).toISOString();
    const archived = i >= s.count;
    const id = `th-${randomUUID()}`;
    threads.push({
      id,
      patientId: s.patientId,
      careTeamId: DEMO.careTeamBlue,
      subject: `Synthetic question ${i + 1}`,
      category: 'GENERAL',
      messages: [
        [patient, at(0), `Synthetic message ${i + 1}.`],
        [ALEX, at(5), `Synthetic reply ${i + 1}.`],
      ],
      readers: { [s.patientId]: [i % 2 ? at(6) : at(1), archived ? at(7) : null] },
    });
    if (!archived) {
      drafts.push({ id: randomUUID(), authorId: s.patientId, patientId: s.patientId, careTeamId: DEMO.careTeamBlue, threadId: id, category: null, subject: null, body: 'Synthetic draft.', createdAt: at(8), updatedAt: at(8) });
    }
  }
  await db.transaction((tx) => insertThreads(tx, threads, drafts));
}
