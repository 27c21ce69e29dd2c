/**
 * A node:test reporter that ends the run with every skipped test and the reason it gave, so a
 * skipped check cannot pass unnoticed in the spec reporter's long output.
 */
export default async function* skippedReporter(source) {
  const skipped = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    const where = file ? ` (${file.replace(/^.*\/dist\//, 'dist/')})` : '';
    skipped.push(`  - ${name}${where}: ${skip === true ? 'no reason given' : skip}`);
  }
  yield skipped.length === 0
    ? 'skipped: none\n'
    : `skipped (${skipped.length}), each with its reason:\n${skipped.join('\n')}\n`;
}
