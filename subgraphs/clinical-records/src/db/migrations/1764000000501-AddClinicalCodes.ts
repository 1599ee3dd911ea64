import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Standard codes for allergies (SNOMED CT) and immunizations (CVX), so the
 * record download can code them; nullable, since older records carry only a name.
 */
export class AddClinicalCodes1764000000501 implements MigrationInterface {
  name = 'AddClinicalCodes1764000000501';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('allergy', new TableColumn({ name: 'snomed_code', type: 'varchar', length: '32', isNullable: true }));
    await q.addColumn('immunization', new TableColumn({ name: 'cvx_code', type: 'varchar', length: '8', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('immunization', 'cvx_code');
    await q.dropColumn('allergy', 'snomed_code');
  }
}
