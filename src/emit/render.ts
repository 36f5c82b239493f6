/**
 * Renders the templates of generated files (templates/c: C sources, linker scripts, Makefiles; templates/renode):
 * plain substitution, never HTML escaping (C has `->`, `<` and `&`), strict mode with the data's keys as the
 * template's only names (a misspelt name is an error, not an empty string), and LF line ends whatever the checkout
 * did to the template.
 */
import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/c/', import.meta.url));

/** Renders the ejs template `file` (an absolute path) with `data`: the one renderer of every generated file. */
export function renderTemplate(file: string, data: object): string {
  return ejs
    .render(readFileSync(file, 'utf8'), data, { filename: file, escape: (s: unknown) => String(s), strict: true, destructuredLocals: Object.keys(data) })
    .replace(/\r\n/g, '\n');
}

/** Renders `template` of templates/c. */
export const renderC = (template: string, data: object): string => renderTemplate(`${TEMPLATES_DIR}${template}`, data);
