-- Neovim's own LSP client against `unroot server` (tests/it/nvim.rs runs it headless):
-- open $UNROOT_FILE, wait for the diagnostics, apply one code action, write the file.
-- $UNROOT_ACTION: `source.fixAll.unroot`, or `quickfix` for the first quick fix (the fix of the
-- first finding; its "ignore" actions come after it).
-- The diagnostics' codes go to $UNROOT_REPORT, one a line. Written for Neovim 0.7 (Debian
-- 12's) and later: vim.lsp.start_client + buf_attach_client, client.request_sync.
local function fail(message)
  io.stderr:write('nvim: ' .. message .. '\n')
  vim.cmd('cquit 1')
end

local ok, err = pcall(function()
  local file = os.getenv('UNROOT_FILE')
  local wanted = os.getenv('UNROOT_ACTION')
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'unroot',
    cmd = { os.getenv('UNROOT_BIN'), 'server' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  if not client_id then
    return fail('the language client did not start')
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  if not vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20) then
    return fail('no diagnostics')
  end
  local report = assert(io.open(os.getenv('UNROOT_REPORT'), 'w'))
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    report:write(tostring(diagnostic.code or diagnostic.user_data.lsp.code) .. '\n')
  end
  report:close()

  local client = vim.lsp.get_client_by_id(client_id)
  local last = vim.api.nvim_buf_line_count(bufnr)
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = { start = { line = 0, character = 0 }, ['end'] = { line = last, character = 0 } },
    context = { diagnostics = {}, only = { wanted } },
  }
  local response = client.request_sync('textDocument/codeAction', params, 30000, bufnr)
  if not response or response.err then
    return fail('codeAction failed: ' .. vim.inspect(response))
  end
  local chosen
  for _, action in ipairs(response.result or {}) do
    if action.kind == wanted then
      chosen = action
      break
    end
  end
  if not chosen then
    return fail('no `' .. wanted .. '` action in ' .. vim.inspect(response.result))
  end
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
  vim.cmd('write')
  vim.cmd('qall!')
end)
if not ok then
  fail(tostring(err))
end
