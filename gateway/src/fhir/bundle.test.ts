import type { Bundle, FhirResource } from 'fhir/r4';
import { buildPatientBundle, patientBundleJson } from './bundle';
import { bundleProblems } from './check';
import { sampleRecord } from './fixture';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const build = (record = sampleRecord()) => buildPatientBundle(record, { baseUrl: 'https://portal.example/fhir/', id: 'b-1', now: NOW });
const countByType = (b: Bundle<FhirResource>) => {
  const counts: Record<string, number> = {};
  for (const e of b.entry ?? []) counts[e.resource!.resourceType] = (counts[e.resource!.resourceType] ?? 0) + 1;
  return counts;
};

describe('buildPatientBundle', () => {
  it('makes a sound collection Bundle: valid ids, resolving references, coded concepts', () => {
    const bundle = build();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', id: 'b-1', type: 'collection', timestamp: '2025-06-01T12:00:00.000Z', meta: { lastUpdated: '2025-06-01T12:00:00.000Z' } });
    expect(bundleProblems(bundle)).toEqual([]);
  });

  it('holds each record once and each practitioner, clinic and care team once', () => {
    const bundle = build();
    expect(countByType(bundle)).toEqual({
      Patient: 1,
      Practitioner: 1,
      Location: 1,
      CareTeam: 1,
      Appointment: 2,
      Communication: 2,
      MedicationRequest: 3,
      // One per fill.
      MedicationDispense: 3,
      DiagnosticReport: 2,
      // 3 results + 3 vitals
      Observation: 6,
      DocumentReference: 2,
      Condition: 2,
      AllergyIntolerance: 2,
      Immunization: 2,
    });
    expect(bundle.entry?.[0].resource?.resourceType).toBe('Patient');
  });

  it('gives every entry a fullUrl under the base that its relative references resolve to', () => {
    const bundle = build();
    expect(bundle.entry?.[0].fullUrl).toBe('https://portal.example/fhir/Patient/pt-1000000002');
    for (const e of bundle.entry ?? []) expect(e.fullUrl).toBe(`https://portal.example/fhir/${e.resource!.resourceType}/${e.resource!.id}`);
  });

  it('maps ids FHIR would refuse, consistently in the resource and in references to it', () => {
    const record = sampleRecord();
    record.labResults[0].id = 'lr_with_underscores';
    record.appointments[0].practitioner = { ...record.appointments[0].practitioner, id: 'pr:odd id' };
    const bundle = build(record);
    expect(bundleProblems(bundle)).toEqual([]);
    const ids = (bundle.entry ?? []).map((e) => e.resource!.id!);
    expect(ids).not.toContain('lr_with_underscores');
    expect(ids.filter((id) => /^x[0-9a-f]{63}$/.test(id))).toHaveLength(2);
  });

  it('works for a patient with nothing but demographics', () => {
    const record = sampleRecord();
    const empty = { ...record, appointments: [], threads: [], prescriptions: [], labResults: [], visitNotes: [], conditions: [], allergies: [], immunizations: [], vitals: [] };
    const bundle = build(empty);
    expect(bundleProblems(bundle)).toEqual([]);
    expect(countByType(bundle)).toEqual({ Patient: 1 });
  });

  it('refuses two different records that would share one resource id', () => {
    const record = sampleRecord();
    record.vitals[0].id = record.labResults[0].id;
    expect(() => build(record)).toThrow(/two records/);
  });
});

describe('bundleProblems', () => {
  it('finds dangling references, bad ids, codings without systems and missing required elements', () => {
    const bundle = build();
    const obs = bundle.entry!.find((e) => e.resource!.resourceType === 'Observation')!.resource as any;
    obs.subject = { reference: 'Patient/someone-else' };
    obs.code.coding[0].system = undefined;
    const cond = bundle.entry!.find((e) => e.resource!.resourceType === 'Condition')!.resource as any;
    cond.id = 'bad_id';
    delete cond.subject;
    const problems = bundleProblems(bundle);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/subject\.reference Patient\/someone-else does not resolve/),
        expect.stringMatching(/coding without system/),
        expect.stringMatching(/invalid id "bad_id"/),
        expect.stringMatching(/Condition\/bad_id lacks subject/),
      ]),
    );
  });
});

describe('patientBundleJson', () => {
  it('writes the same Bundle as buildPatientBundle, one entry per piece after the head', () => {
    const options = { baseUrl: 'https://portal.example/fhir/', id: 'b-1', now: NOW };
    const pieces = [...patientBundleJson(sampleRecord(), options)];
    const whole = buildPatientBundle(sampleRecord(), options);
    expect(JSON.parse(pieces.join(''))).toEqual(whole);
    // The head, then one piece per entry, then the closing brackets.
    expect(pieces).toHaveLength(whole.entry!.length + 2);
  });

  it('writes an empty entry list as []', () => {
    const record = { ...sampleRecord(), appointments: [], threads: [], prescriptions: [], labResults: [], visitNotes: [], conditions: [], allergies: [], immunizations: [], vitals: [] };
    const parsed = JSON.parse([...patientBundleJson(record, { baseUrl: 'https://p/fhir', id: 'b-2', now: NOW })].join(''));
    expect(parsed.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual(['Patient']);
  });
});
