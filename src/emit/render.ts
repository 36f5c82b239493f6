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

const compiled = new Map<string, ejs.TemplateFunction>();

/**
 * Renders the ejs template `file` (an absolute path) with `data`: the one renderer of every generated file. Compiled
 * once per file and set of data keys (a band plan renders each step template hundreds of times).
 */
export function renderTemplate(file: string, data: object): string {
  const keys = Object.keys(data);
  const key = `${file}\0${keys.join(',')}`;
  let t = compiled.get(key);
  if (!t) {
    t = ejs.compile(readFileSync(file, 'utf8'), { filename: file, escape: (s: unknown) => String(s), strict: true, destructuredLocals: keys });
    compiled.set(key, t);
  }
  return t(data).replace(/\r\n/g, '\n');
}

/** Renders `template` of templates/c. */
export const renderC = (template: string, data: object): string => renderTemplate(`${TEMPLATES_DIR}${template}`, data);
