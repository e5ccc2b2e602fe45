// The "build": writes dist/server.js from server.js with a banner, as a bundler would.
const fs = require("fs");
fs.mkdirSync("dist", { recursive: true });
fs.writeFileSync("dist/server.js", `// built\n${fs.readFileSync("server.js", "utf8")}`);
