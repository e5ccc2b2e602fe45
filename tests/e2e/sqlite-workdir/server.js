// Opens the "database" of DATABASE_URL=file:… as SQLite does: the file and, next to it, its
// journal. Then answers 200 on $PORT (default 3000).
const fs = require("fs");
const http = require("http");
const file = (process.env.DATABASE_URL || "").replace(/^file:/, "");
fs.appendFileSync(file, "row\n");
fs.writeFileSync(`${file}-journal`, "journal\n");
fs.unlinkSync(`${file}-journal`);
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
