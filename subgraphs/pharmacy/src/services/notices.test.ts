import { refillNotice, refillNoticeKey, renewalNotice, renewalNoticeKey } from './notices';

describe('renewalNotice', () => {
  it('tells of an approval: which medication, refills, until when, and the note', () => {
    expect(renewalNotice({ approved: true, medicationName: 'Metformin', note: 'Take with food.', refills: 1, expiresOn: '2027-03-01' })).toEqual({
      subject: 'Your prescription renewal was approved',
      body: [
        'Your care team approved your request to renew your Metformin prescription.',
        'The new prescription has 1 refill and is valid until 2027-03-01.',
        '',
        'Note from your care team: Take with food.',
        '',
        'You can see it under Prescriptions.',
      ].join('\n'),
    });
  });

  it('tells of a denial with its reason, and no more than the medication’s name', () => {
    const notice = renewalNotice({ approved: false, medicationName: 'Lisinopril', note: 'Please book a visit first.' });
    expect(notice.subject).toBe('Your prescription renewal was not approved');
    expect(notice.body).toContain('renew your Lisinopril prescription');
    expect(notice.body).toContain('Reason: Please book a visit first.');
    expect(notice.body).not.toMatch(/mg|tablet|Take /);
  });

  it('keys one message per request', () => {
    expect(renewalNoticeKey('rq-1')).toBe('renewal-decision:rq-1');
  });
});

describe('refillNotice', () => {
  it('tells of a fill: which medication and the refills left', () => {
    expect(refillNotice({ filled: true, medicationName: 'Lisinopril', refillsRemaining: 1 })).toEqual({
      subject: 'Your prescription refill was filled',
      body: ['The pharmacy filled your request to refill your Lisinopril prescription.', 'The prescription has 1 refill left.', '', 'You can see it under Prescriptions.'].join('\n'),
    });
    expect(refillNotice({ filled: true, medicationName: 'Lisinopril', refillsRemaining: 0 }).body).toContain('has 0 refills left');
  });

  it('tells of a denial with its reason', () => {
    const notice = refillNotice({ filled: false, medicationName: 'Albuterol', reason: 'Too early.' });
    expect(notice.subject).toBe('Your prescription refill was not filled');
    expect(notice.body).toContain('refill your Albuterol prescription');
    expect(notice.body).toContain('Reason: Too early.');
  });

  it('keys one message per request, apart from renewals', () => {
    expect(refillNoticeKey('rq-1')).toBe('refill-decision:rq-1');
  });
});
