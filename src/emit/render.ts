/** Renders a C-side template of templates/c: plain substitution, never HTML escaping (C has `->`, `<` and `&`). */
import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/c/', import.meta.url));

export function renderC(template: string, data: object): string {
  const file = `${TEMPLATES_DIR}${template}`;
  return ejs.render(readFileSync(file, 'utf8'), data, { filename: file, escape: (s: unknown) => String(s) });
}
