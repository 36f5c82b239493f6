/**
 * Ground-truth labels of an image folder: a CSV (file,index[,wnid] with or without a header, as
 * ../shared/images/dev/labels.csv), or, without one, the WordNet id at the start of each file name
 * (n01440764_tench.JPEG) looked up in the model's class list.
 */
import { existsSync } from 'node:fs';
import { readInputText } from '../util/input-file.js';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Labels } from '../import/card.js';

/** Splits one CSV line (quotes allowed). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** file name -> class index. */
export function parseLabelsCsv(text: string, source: string, classes?: number): Map<string, number> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new UserError(`labels file ${source} is empty`, 'expected lines "file,class_index"');
  let fileCol = 0;
  let idxCol = 1;
  let first = 0;
  const head = splitCsv(lines[0]).map((h) => h.toLowerCase());
  if (!/^\d+$/.test(head[1] ?? '')) {
    first = 1;
    fileCol = head.findIndex((h) => ['file', 'filename', 'image', 'path', 'name'].includes(h));
    idxCol = head.findIndex((h) => ['index', 'label', 'class', 'class_index', 'classindex', 'target'].includes(h));
    if (fileCol < 0 || idxCol < 0) throw new UserError(`labels file ${source}: header "${lines[0]}" has no file and index columns`, 'expected a header like "file,index" (or no header and two columns)');
  }
  const map = new Map<string, number>();
  for (let i = first; i < lines.length; i++) {
    const cells = splitCsv(lines[i]);
    const file = cells[fileCol];
    const idx = Number(cells[idxCol]);
    if (!file || !Number.isInteger(idx) || idx < 0 || (classes !== undefined && idx >= classes)) {
      throw new UserError(`labels file ${source} line ${i + 1}: "${lines[i]}" is not "file,class_index"${classes !== undefined ? ` with an index below ${classes}` : ''}`, 'fix the line');
    }
    map.set(basename(file), idx);
  }
  return map;
}

/**
 * Class index of each image. Order of sources: the given CSV; `<dir>/labels.csv`; WordNet ids in the file names
 * (needs a class list with wnids). Images without a label are an error, naming the first few.
 */
export function groundTruth(images: string[], dir: string, opts: { csv?: string; classes?: number; labels?: Labels }): { labels: number[]; source: string } {
  let csv = opts.csv;
  if (!csv && existsSync(join(dir, 'labels.csv'))) csv = join(dir, 'labels.csv');
  if (csv) {
    const text = readInputText(csv, { what: 'labels file', maxBytes: 64 << 20, hint: 'check the --labels path' });
    const map = parseLabelsCsv(text, csv, opts.classes);
    const missing = images.filter((p) => !map.has(basename(p)));
    if (missing.length) throw new UserError(`${missing.length} image(s) have no label in ${csv}, e.g. ${missing.slice(0, 3).map((p) => basename(p)).join(', ')}`, 'add them to the CSV or remove them from the folder');
    return { labels: images.map((p) => map.get(basename(p))!), source: csv };
  }
  const wnids = opts.labels?.wnids;
  if (wnids) {
    const byWnid = new Map(wnids.map((w, i) => [w, i]));
    const labels = images.map((p) => {
      const m = /^(n\d{8})/.exec(basename(p));
      const i = m ? byWnid.get(m[1]) : undefined;
      if (i === undefined) throw new UserError(`no label for ${basename(p)}: no labels.csv and its name does not start with a known WordNet id`, 'pass --labels file.csv (lines "file,class_index")');
      return i;
    });
    return { labels, source: 'WordNet ids in the file names' };
  }
  throw new UserError(`no labels for the images in ${dir}`, 'pass --labels file.csv (lines "file,class_index"), or put labels.csv in the image folder');
}
