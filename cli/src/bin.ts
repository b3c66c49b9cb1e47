import { run } from "./main.js";

/** The `ecomid` command: built to cli/dist/ecomid.js (`npm run build`); `npm run ecomid -- ...` runs this source under tsx. */
process.exitCode = await run(process.argv.slice(2), process.env);
