const ASCII = /^[\x20-\x7e]*$/;

/**
 * The key usernames are unique and looked up by (`username_normalized`): one Unicode form (NFC),
 * case-insensitive for the ASCII letters only. A local username is ASCII ([A-Za-z0-9._@-]), so a
 * name written with other characters must never reach one: NFC turns the Kelvin sign (U+212A) into
 * `K`, and full Unicode lower-casing did the rest, so `\u212Aate` signed in as `kate`, a name no
 * create would have accepted. Such a name keeps its characters and matches nothing local. A
 * federated name (`provider:sub`) keeps its non-ASCII letters as the IdP sent them: subjects that
 * differ only in such a letter's case are different people.
 */
export function normalizeUsername(username: string): string {
  const nfc = username.normalize('NFC');
  const key = ASCII.test(nfc) && !ASCII.test(username) ? username : nfc;
  return key.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
