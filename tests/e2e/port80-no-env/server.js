// Answers 200 on $PORT (default 80).
const http = require("http");
const port = Number(process.env.PORT || 80);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
