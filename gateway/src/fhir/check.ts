import type { Bundle, FhirResource } from 'fhir/r4';
import { isFhirId } from './ids';

/** Elements R4 requires (1..1 or 1..*) of each resource type the download writes. */
export const REQUIRED: Record<string, string[]> = {
  Patient: [],
  Practitioner: [],
  Location: [],
  CareTeam: [],
  Appointment: ['status', 'participant'],
  Communication: ['status'],
  MedicationRequest: ['status', 'intent', 'subject', 'medicationCodeableConcept'],
  MedicationDispense: ['status', 'medicationCodeableConcept'],
  DiagnosticReport: ['status', 'code', 'subject'],
  Observation: ['status', 'code', 'subject'],
  DocumentReference: ['status', 'content'],
  Condition: ['subject', 'code'],
  AllergyIntolerance: ['patient'],
  Immunization: ['status', 'vaccineCode', 'patient', 'occurrenceDateTime'],
};

/**
 * What is structurally wrong with a download bundle, as readable lines (none
 * when it is sound): ids, unique fullUrls, required elements, references that
 * resolve inside the bundle, codings with their system, UCUM quantities.
 */
export function bundleProblems(bundle: Bundle<FhirResource>): string[] {
  const problems: string[] = [];
  if (bundle.resourceType !== 'Bundle') problems.push('not a Bundle');
  if (!['collection', 'searchset'].includes(bundle.type)) problems.push(`Bundle.type ${bundle.type}`);
  const byFullUrl = new Map<string, FhirResource>();
  const byRelative = new Map<string, FhirResource>();
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    const r = e.resource;
    if (!r?.resourceType) {
      problems.push(`entry ${i} has no resource type`);
      continue;
    }
    if (!r.id || !isFhirId(r.id)) problems.push(`entry ${i} (${r.resourceType}) has an invalid id ${JSON.stringify(r.id)}`);
    if (!e.fullUrl || !e.fullUrl.endsWith(`/${r.resourceType}/${r.id}`)) problems.push(`entry ${i} fullUrl ${e.fullUrl} does not name ${r.resourceType}/${r.id}`);
    if (e.fullUrl && byFullUrl.has(e.fullUrl)) problems.push(`fullUrl ${e.fullUrl} appears twice`);
    if (e.fullUrl) byFullUrl.set(e.fullUrl, r);
    byRelative.set(`${r.resourceType}/${r.id}`, r);
    const required = REQUIRED[r.resourceType];
    if (!required) problems.push(`unexpected resource type ${r.resourceType}`);
    for (const field of required ?? []) {
      const value = (r as unknown as Record<string, unknown>)[field];
      if (value == null || (Array.isArray(value) && value.length === 0)) problems.push(`${r.resourceType}/${r.id} lacks ${field}`);
    }
  }
  for (const e of bundle.entry ?? []) {
    if (!e.resource) continue;
    const where = `${e.resource.resourceType}/${e.resource.id}`;
    walk(e.resource, (node, path) => {
      if (typeof node.reference === 'string' && !byRelative.has(node.reference) && !byFullUrl.has(node.reference)) {
        problems.push(`${where} ${path}.reference ${node.reference} does not resolve inside the bundle`);
      }
      if (Array.isArray(node.coding)) {
        for (const c of node.coding as { system?: unknown; code?: unknown }[]) {
          if (typeof c.system !== 'string' || !c.system || typeof c.code !== 'string' || !c.code) problems.push(`${where} ${path} has a coding without system or code`);
        }
      }
      if (typeof node.code === 'string' && typeof node.value === 'number' && typeof node.system !== 'string') {
        problems.push(`${where} ${path} is a quantity with a code but no system`);
      }
    });
  }
  return problems;
}

function walk(node: unknown, visit: (node: Record<string, unknown>, path: string) => void, path = ''): void {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, visit, `${path}[${i}]`));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, path ? `${path}.${k}` : k);
  }
}
