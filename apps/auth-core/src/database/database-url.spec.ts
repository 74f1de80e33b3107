import { databaseUrlProblem } from './database-url';

describe('databaseUrlProblem', () => {
  it('takes a TCP URL and a URL whose host is a percent-encoded socket directory', () => {
    expect(databaseUrlProblem('postgres://portcullis:s3cret@db.internal:5432/portcullis')).toBeNull();
    // How pg names a Unix socket: the host is the socket's directory, URL-encoded.
    expect(databaseUrlProblem('postgres://postgres@%2Fvar%2Frun%2Fpostgresql/portcullis')).toBeNull();
  });

  it('refuses what TypeORM or pg would only fail on at the first connection, naming the variable', () => {
    for (const bad of [undefined, '', 'not a url', 'mysql://root@127.0.0.1/db', 'postgres://u:100%@127.0.0.1/db']) {
      expect(databaseUrlProblem(bad)).toMatch(/^DATABASE_URL /);
    }
  });

  it('never repeats the value, which holds the password', () => {
    expect(databaseUrlProblem('postgres://u:p%zz@127.0.0.1/db')).not.toContain('p%zz');
  });
});
