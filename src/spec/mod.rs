//! Specs: the input format ([`model`]), reading it ([`load`]), and checking it
//! into a [`validate::Redis`] that rendering can trust ([`validate`]).

pub mod directives;
pub mod load;
pub mod model;
pub mod quantity;
mod recover;
pub mod validate;
