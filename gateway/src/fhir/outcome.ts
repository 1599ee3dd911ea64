import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

/** A FHIR error body: one issue, in words a person can act on, and nothing internal. */
export function operationOutcome(code: OperationOutcomeIssue['code'], diagnostics: string, severity: OperationOutcomeIssue['severity'] = 'error'): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}
