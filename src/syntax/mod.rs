//! A lossless Dockerfile parser modelled on BuildKit's `frontend/dockerfile/parser`.
//!
//! [`parse`] splits the file into pieces that tile every byte (BOM, directives, comments,
//! blank lines, instructions) and gives each instruction what BuildKit's parser gives its
//! AST node, plus exact byte spans for every part.

mod ast;
mod directives;
mod dump;
mod error;
mod heredoc;
mod json;
mod line_parsers;
mod logical;
mod parser;
mod span;
mod split_command;

pub use ast::{
    Directive, Dockerfile, Heredoc, Instruction, KeyValue, Keyword, Piece, PieceKind, Token,
    Warning,
};
pub use dump::go_quote;
pub use error::{ErrorKind, ParseError};
pub use parser::{parse, parse_bytes, MAX_FILE_SIZE};
pub use span::Span;
