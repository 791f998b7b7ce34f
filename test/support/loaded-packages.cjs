/**
 * Preloaded into the bot's process (`node --require`) by test/process/startup.test.ts: when the
 * process exits, writes the name of every package it loaded through `require` (botbuilder,
 * mongoose, the MongoDB driver, which Agenda needs, mingo: all CommonJS) to the file named by
 * LOADED_PACKAGES_FILE, one a line.
 */
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
    if (match) names.add(match[1].replace('\\', '/'));
  }
  writeFileSync(process.env.LOADED_PACKAGES_FILE, [...names].sort().join('\n'));
});
