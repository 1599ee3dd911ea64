import { forbidden, unauthenticated, type Access } from '@portal/kit';
import type { PersonRow } from '../db/entities';
import type { IdentityLoaders } from '../loaders';

/** Who may see a person's identity record: patients need care access, practitioners only a sign-in. */
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
  async patient(id: string): Promise<PersonRow | null> {
    this.access.requireViewer();
    const person = await this.loaders.person.load(id);
    if (!person || person.kind !== 'PATIENT') return null;
    return (await this.access.check(id, 'demographics')) ? person : null;
  }

  /** Practitioners' names are not health data, but still only for signed-in callers. */
  async practitioner(id: string): Promise<PersonRow | null> {
    if (!this.access.viewer) throw unauthenticated();
    const person = await this.loaders.person.load(id);
    return person && person.kind === 'PRACTITIONER' ? person : null;
  }

  async careTeamsOfPatient(id: string) {
    await this.access.assert(id, 'care_team');
    return this.loaders.careTeamsOfPerson.load(id);
  }

  async careTeamsOfPractitioner(id: string) {
    const viewer = this.access.requireViewer();
    if (viewer.personId !== id) throw forbidden('Only the practitioner themself can list their care teams.');
    return this.loaders.careTeamsOfPerson.load(id);
  }

  async careTeam(id: string) {
    if (!this.access.viewer) throw unauthenticated();
    return this.loaders.careTeam.load(id);
  }
}
