import { classify, type Sample } from './load';
import { judge, SCENARIOS, table, type ScenarioResult } from './scenarios';

const patient = {
  id: 'p-jane',
  upcomingAppointments: [],
  unreadMessageCount: 1,
  messageThreads: { totalCount: 0, edges: [] },
  prescriptions: [],
  labResults: { edges: [] },
  visitNotes: { edges: [] },
};
const full = { data: { me: { account: { id: 'ac-jane-doe' }, session: {}, patient } } };
const withoutPrescriptions = {
  data: { me: { account: { id: 'ac-jane-doe' }, session: {}, patient: { ...patient, prescriptions: null } } },
  errors: [{ message: 'Prescriptions are unavailable right now.', path: ['me', 'patient', 'prescriptions'], extensions: { code: 'SERVICE_UNAVAILABLE' } }],
};
const unavailable = { errors: [{ message: 'Your sign-in could not be checked right now.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] };

describe('classify', () => {
  it('tells full, partial and failed answers apart', () => {
    expect(classify(200, full, 0, 1)).toMatchObject({ outcome: 'full', missing: [] });
    expect(classify(200, withoutPrescriptions, 0, 1)).toMatchObject({ outcome: 'partial', missing: ['me.patient.prescriptions'], errors: [{ code: 'SERVICE_UNAVAILABLE', path: 'me.patient.prescriptions' }] });
    expect(classify(503, unavailable, 0, 1)).toMatchObject({ outcome: 'failed', kind: 'HTTP 503 SERVICE_UNAVAILABLE without path' });
    expect(classify(401, { errors: [{ message: 'Sign in again.', extensions: { code: 'UNAUTHENTICATED' } }] }, 0, 1)).toMatchObject({ outcome: 'failed', kind: 'HTTP 401 UNAUTHENTICATED without path' });
  });

  it('counts data with an error that has no path, or another code, as failed', () => {
    const masked = { data: { me: { account: { id: 'ac-jane-doe' }, session: {}, patient: null } }, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    expect(classify(200, masked, 0, 1)).toMatchObject({ outcome: 'failed', kind: 'HTTP 200 INTERNAL_SERVER_ERROR without path', missing: ['me.patient'] });
  });

  it('notices internal detail in an error', () => {
    const leaky = { ...withoutPrescriptions, errors: [{ ...withoutPrescriptions.errors[0], message: 'connect ECONNREFUSED 127.0.0.1:4004' }] };
    expect(classify(200, leaky, 0, 1).leak).toBe(true);
    expect(classify(200, withoutPrescriptions, 0, 1).leak).toBe(false);
  });
});

describe('judge', () => {
  const at = (start: number, end: number, body: unknown, status = 200): Sample => classify(status, body, start, end);
  const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
  const result = (name: string, samples: Sample[]): ScenarioResult => ({ scenario: scenario(name), samples, injectedAt: 100, healStartedAt: 200, healedAt: 300, recoveryMs: 50 });

  it('allows a pharmacy fault to cost the prescriptions only', () => {
    const j = judge(result('pharmacy-stopped', [at(0, 50, full), at(110, 120, withoutPrescriptions), at(150, 160, withoutPrescriptions), at(310, 350, full), at(400, 420, full)]));
    expect(j).toMatchObject({ sent: 5, full: 3, partial: 2, failed: 0, violations: {}, duringFault: 2, partialDuringFault: 2, longestWaitMs: 50, recoveryMs: 50, notFullAfterRecovery: 0, unauthenticated: 0 });
  });

  it('names what a pharmacy fault must not cost: other sections, a refusal, a 401', () => {
    const noAppointments = {
      data: { me: { ...withoutPrescriptions.data.me, patient: { ...withoutPrescriptions.data.me.patient, upcomingAppointments: null } } },
      errors: [...withoutPrescriptions.errors, { message: 'x', path: ['me', 'patient', 'upcomingAppointments'], extensions: { code: 'SERVICE_UNAVAILABLE' } }],
    };
    const signInAgain = { errors: [{ message: 'Sign in again.', extensions: { code: 'UNAUTHENTICATED' } }] };
    const j = judge(result('pharmacy-stopped', [at(110, 120, noAppointments), at(120, 130, unavailable, 503), at(130, 140, signInAgain, 401), at(400, 420, full)]));
    expect(j.violations).toEqual({
      'partial, but an error outside me.patient.prescriptions: me.patient.upcomingAppointments': 1,
      'failed: HTTP 503 SERVICE_UNAVAILABLE without path': 1,
      'failed: HTTP 401 UNAUTHENTICATED without path': 1,
    });
    expect(j.unauthenticated).toBe(1);
  });

  it('allows a clean 503 while identity is away, and sees answers that were not full after recovery', () => {
    const j = judge(result('identity-stopped', [at(110, 120, unavailable, 503), at(310, 350, full), at(360, 370, unavailable, 503)]));
    expect(j.violations).toEqual({});
    expect(j.notFullAfterRecovery).toBe(1);
  });

  it('prints one row per scenario', () => {
    const r = result('pharmacy-hung', [at(0, 5_300, withoutPrescriptions), at(310, 350, full)]);
    const lines = table([{ result: r, judgement: judge(r) }]).split('\n');
    expect(lines[0]).toBe('| scenario      | sent | full | partial | failed | longest wait | time to recover |');
    expect(lines[2]).toBe('| pharmacy-hung |    2 |    1 |       1 |      0 |        5.3 s |           0.1 s |');
  });
});
