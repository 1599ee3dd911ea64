/**
 * `GET /fhir/metadata`: the FHIR R4 CapabilityStatement of what this server
 * offers. It holds no health data and answers without a token (FHIR clients
 * read it before they sign in).
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';

/** The day this statement last changed; bump it with what it says. */
export const CAPABILITY_DATE = '2026-11-27';

/** The resource types a download Bundle may hold, and what each carries. */
export const DOWNLOAD_TYPES: Partial<Record<CapabilityStatementRestResource['type'], string>> = {
  Patient: 'The signed-in patient (demographics from identity).',
  Practitioner: 'Practitioners the records name (prescribers, appointment practitioners, note authors).',
  Location: 'Clinics of appointments.',
  CareTeam: 'Care teams of secure message threads.',
  Appointment: 'Appointments, with cancellations.',
  Communication: 'Secure messages, one per message of each thread.',
  MedicationRequest: 'Prescriptions (RxNorm), linked to the prescription they renewed.',
  MedicationDispense: 'Each fill of a prescription: quantity, days of supply, the day it was handed over, and its MedicationRequest.',
  DiagnosticReport: 'Lab results grouped by collection.',
  Observation: 'Lab results (LOINC) and vital signs.',
  DocumentReference: 'Visit notes as plain text.',
  Condition: 'Problems (ICD-10-CM).',
  AllergyIntolerance: 'Allergies (SNOMED CT where coded).',
  Immunization: 'Immunizations (CVX where coded).',
};

const EVERYTHING = 'http://hl7.org/fhir/OperationDefinition/Patient-everything';

/** The statement for a server whose FHIR base is `baseUrl` (e.g. `https://portal.example/fhir`). */
export function capabilityStatement(baseUrl: string): CapabilityStatement {
  const types = Object.entries(DOWNLOAD_TYPES) as [CapabilityStatementRestResource['type'], string][];
  const resource: CapabilityStatementRestResource[] = types.map(([type, documentation]) =>
    type === 'Patient'
      ? {
          type,
          documentation: `${documentation} The whole record is read with the type-level operation GET [base]/Patient/$everything (the record of the patient the bearer token signs in; no id, no parameters).`,
          operation: [{ name: 'everything', definition: EVERYTHING, documentation: 'The signed-in patient’s whole record as a collection Bundle; every read is authorized and audited by the part of the portal that holds it.' }],
        }
      : { type, documentation: `${documentation} Returned only inside Patient/$everything; not read or searched on its own.` },
  );
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: CAPABILITY_DATE,
    publisher: 'Patient portal',
    kind: 'instance',
    software: { name: 'Patient portal gateway' },
    implementation: { description: 'Patient portal: the signed-in patient’s record download', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Read-only: one operation, the signed-in patient’s record download. Nothing is written, searched or read by id.',
        security: {
          cors: false,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }],
              text: 'Bearer access token',
            },
          ],
          description:
            'Send the access token of a patient’s portal sign-in (DS Logon or CAC/PIV through the GraphQL API) as "Authorization: Bearer <token>". ' +
            'Only patients may download, and only their own record. The portal issues its own tokens: there is no SMART App Launch authorization endpoint.',
        },
        resource,
      },
    ],
  };
}
