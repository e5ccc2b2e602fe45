// Started by `npm start`; keeps a file in npm's cache directory (~/.npm), as tools that npm
// runs do, then answers 200 on $PORT (default 3000).
const fs = require("fs");
const http = require("http");
const os = require("os");
const cache = `${os.homedir()}/.npm`;
fs.mkdirSync(`${cache}/_app`, { recursive: true });
fs.writeFileSync(`${cache}/_app/started.txt`, `${new Date().toISOString()}\n`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
