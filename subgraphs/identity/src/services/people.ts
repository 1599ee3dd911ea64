import { unauthenticated, type Access, type Viewer } from '@portal/kit';
import type { PersonRow } from '../db/entities';
import type { IdentityLoaders } from '../loaders';
import { policy } from '../policy';

/** Reads people's identity records, asking `../policy.ts` who may see which (never by role): patients need care access, practitioners only a sign-in. */
export class PeopleService {
  constructor(
    private readonly access: Access,
    private readonly loaders: IdentityLoaders,
  ) {}

  /**
   * A patient's demographics, audited; null when there is no such patient and
   * null, just the same, when the viewer may not see them, so `_entities`
   * cannot be used to learn which patient ids exist.
   */
  async patient(id: string, entry: 'Patient.__resolveReference' | 'Me.patient' = 'Patient.__resolveReference'): Promise<PersonRow | null> {
    await policy.viewer(entry, this.access);
    const person = await this.loaders.person.load(id);
    if (!person || person.kind !== 'PATIENT') return null;
    return (await policy.check(entry, this.access, id)) ? person : null;
  }

  /** The signed-in patient's own record; null for anyone else. */
  async ownPatient(viewer: Viewer): Promise<PersonRow | null> {
    if (!(await policy.admits('Me.patient', this.access))) return null;
    return this.patient(viewer.personId, 'Me.patient');
  }

  /** The signed-in staff member's own record; null for anyone else. */
  async ownPractitioner(viewer: Viewer): Promise<PersonRow | null> {
    if (!(await policy.admits('Me.practitioner', this.access))) return null;
    await policy.assert('Me.practitioner', this.access, viewer.personId);
    return this.practitioner(viewer.personId);
  }

  /** Practitioners' names are not health data, but still only for signed-in callers. */
  async practitioner(id: string): Promise<PersonRow | null> {
    if (!this.access.viewer) throw unauthenticated();
    const person = await this.loaders.person.load(id);
    return person && person.kind === 'PRACTITIONER' ? person : null;
  }

  async careTeamsOfPatient(id: string) {
    await policy.assert('Patient.careTeams', this.access, id);
    return this.loaders.careTeamsOfPerson.load(id);
  }

  async careTeamsOfPractitioner(id: string) {
    await policy.assert('Practitioner.careTeams', this.access, id);
    return this.loaders.careTeamsOfPerson.load(id);
  }

  async careTeam(id: string) {
    if (!this.access.viewer) throw unauthenticated();
    return this.loaders.careTeam.load(id);
  }
}
