import { anyOf, careTeam, definePolicy, patientSelf, pharmacist, proxyFor, roles, serviceScope } from '@portal/kit';

/**
 * Who may see and change what in pharmacy: the one place that decides it.
 *
 * Every entry below hands out or changes a patient's prescriptions and
 * pharmacy requests; services ask this policy
 * (`policy.assert('Patient.prescriptions', access, patientId)`) and never look
 * at roles. Each decision is audited as the entry's kind and action. A
 * pharmacist reads a patient's prescriptions and requests only while one of
 * the patient's requests is pending, or after a recorded look-up in the same
 * request (`Query.pharmacistLookup`). `src/policy.test.ts` fails for a field
 * that reaches health data past no entry, and for an entry naming no field.
 */

/** A service credential reading prescriptions and requests. */
const SERVICE_READ = serviceScope('pharmacy:read');

/** Someone acting for the patient whose grant covers medications (a parent of a minor, a caregiver named by the patient). */
const PROXY = proxyFor('MEDICATIONS');

/** The patient, someone acting for them, the practitioners treating them, a pharmacist with a case, a reading service. */
const READERS = anyOf(patientSelf, PROXY, careTeam, pharmacist, SERVICE_READ);

/** Who asks for a refill or renewal of a prescription: its patient, or a proxy in the patient's name. */
const REQUESTERS = anyOf(patientSelf, PROXY);

/** Patients ask for refills and renewals (of their own prescriptions, or in the name of someone they are a proxy for). */
const PATIENTS_ONLY = roles(['PATIENT'], 'Only a patient can do this.');
const PRACTITIONERS_ONLY = roles(['PRACTITIONER'], 'Only a practitioner can approve or deny a renewal.');
const PHARMACISTS_ONLY = roles(['PHARMACIST'], 'Only a pharmacist can record a fill.');

const RX = 'Prescription';
const REQUEST = 'Pharmacy request';

export const policy = definePolicy({
  healthTypes: ['Prescription', 'Fill', 'PharmacyRequest'],
  otherTypes: {
    Medication: 'a drug product (name, strength, form): reference data, sign-in only',
    Patient: 'identity owns the patient; here only its id and the guarded prescriptions',
    Practitioner: 'a reference by id only',
  },
  openFields: {},
  entries: {
    'Patient.prescriptions': { allow: READERS, audit: { kind: 'prescription', action: 'read' } },
    // By id (the router's reference): another patient's reads exactly like a missing one.
    'Prescription.__resolveReference': { allow: READERS, audit: { kind: 'prescription', action: 'read' }, hideAs: RX },
    'Prescription.renewedFrom': { allow: READERS, audit: { kind: 'prescription', action: 'read' }, hideAs: RX },
    'Prescription.pendingRequest': { allow: READERS, audit: { kind: 'pharmacy_request', action: 'read' } },
    'PharmacyRequest.__resolveReference': { allow: READERS, audit: { kind: 'pharmacy_request', action: 'read' }, hideAs: REQUEST },
    'PharmacyRequest.prescription': { allow: READERS, audit: { kind: 'prescription', action: 'read' } },
    'PharmacyRequest.newPrescription': { allow: READERS, audit: { kind: 'prescription', action: 'read' } },
    // Staff's queue: only the requests of patients the viewer may see are returned, and only those audited.
    'Query.pendingPharmacyRequests': {
      gate: roles(['PRACTITIONER', 'PHARMACIST'], 'Only care staff can do this.'),
      allow: anyOf(careTeam, pharmacist),
      audit: { kind: 'pharmacy_request', action: 'read' },
    },
    // The look-up (who, whom and why are stored) gives the pharmacist a case for the rest of the request.
    'Query.pharmacistLookup': {
      gate: roles(['PHARMACIST'], 'Only a pharmacist can look a patient up for dispensing.'),
      allow: pharmacist,
      audit: { kind: 'prescription', action: 'read' },
    },
    // Another patient's prescription is NOT_FOUND, exactly like a missing one.
    'Mutation.requestRefill': { gate: PATIENTS_ONLY, allow: REQUESTERS, audit: { kind: 'pharmacy_request', action: 'create' }, hideAs: RX },
    'Mutation.requestRenewal': { gate: PATIENTS_ONLY, allow: REQUESTERS, audit: { kind: 'pharmacy_request', action: 'create' }, hideAs: RX },
    // A request of a patient the practitioner does not treat is NOT_FOUND; approving also writes a prescription.
    'Mutation.decideRenewal': { gate: PRACTITIONERS_ONLY, allow: careTeam, audit: { kind: 'pharmacy_request', action: 'update' }, hideAs: REQUEST },
    'Mutation.decideRenewal#approve': { gate: PRACTITIONERS_ONLY, allow: careTeam, audit: { kind: 'prescription', action: 'create' } },
    // A pharmacist with a case fills the refill: the request changes and a refill of the prescription is used.
    'Mutation.completeRefill': { gate: PHARMACISTS_ONLY, allow: pharmacist, audit: { kind: 'pharmacy_request', action: 'update' }, hideAs: REQUEST },
    'Mutation.completeRefill#fill': { gate: PHARMACISTS_ONLY, allow: pharmacist, audit: { kind: 'prescription', action: 'update' } },
    // A pharmacist with a case denies the refill with a reason: only the request changes.
    'Mutation.denyRefill': {
      gate: roles(['PHARMACIST'], 'Only a pharmacist can deny a refill.'),
      allow: pharmacist,
      audit: { kind: 'pharmacy_request', action: 'update' },
      hideAs: REQUEST,
    },
  },
});
