/** `sqzfw export --tflite out.tflite`: the QModel the firmware commands would build, written as an int8 .tflite. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import type { QModel } from '../quantize/types.js';
import { exportTflite } from './export.js';

export function registerExportCommand<O extends object>(program: Command, src: { addOptions: (c: Command) => Command; prepare: (o: O) => { model: QModel } | Promise<{ model: QModel }> }): void {
  src
    .addOptions(program.command('export').description('write the int8 model (same model options as generate) as a .tflite flatbuffer'))
    .requiredOption('--tflite <file>', 'output .tflite file')
    .addOption(new Option('--input-type <t>', 'input tensor type: int8, or uint8 followed by QUANTIZE').choices(['int8', 'uint8']).default('int8'))
    .addOption(new Option('--output-type <t>', 'output tensor type: int8, or float32 after DEQUANTIZE').choices(['int8', 'float32']).default('int8'))
    .action(async (o: O & { tflite: string; inputType: 'int8' | 'uint8'; outputType: 'int8' | 'float32' }) => {
      const { model } = await src.prepare(o);
      const bytes = exportTflite(model, { input: o.inputType, output: o.outputType });
      const tmp = `${o.tflite}.tmp`;
      try {
        writeFileSync(tmp, bytes);
        renameSync(tmp, o.tflite);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw new UserError(`cannot write ${o.tflite}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check that the folder exists and is writable');
      }
      console.log(`wrote ${o.tflite}: ${bytes.length} bytes, ${model.layers.length} layers, input ${o.inputType}, output ${o.outputType}`);
    });
}
