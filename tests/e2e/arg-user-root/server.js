// Answers 200 on $PORT (default 3000).
const http = require("http");
const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => res.end("ok\n"))
  .listen(port, () => console.log(`listening on ${port}`));
