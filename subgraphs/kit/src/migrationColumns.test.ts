import { integerColumn, varcharColumn } from './migrationColumns';

// Migrations that have run rebuild nothing, but a new database replays them all: what these
// return is pinned, so a change to a helper cannot quietly give new databases other columns.
it('builds exactly the column options the migrations were written with', () => {
  expect(varcharColumn('id', 64)).toEqual({ name: 'id', type: 'varchar', length: '64' });
  expect(varcharColumn('id', 64, { isPrimary: true })).toEqual({ name: 'id', type: 'varchar', length: '64', isPrimary: true });
  expect(varcharColumn('note', 500, { isNullable: true })).toEqual({ name: 'note', type: 'varchar', length: '500', isNullable: true });
  expect(integerColumn('refills')).toEqual({ name: 'refills', type: 'integer' });
  expect(integerColumn('attempts', { default: 0 })).toEqual({ name: 'attempts', type: 'integer', default: 0 });
});
