//! Names of stacks, exports and resources: they are the model's ([`crate::manifest::names`]);
//! this path stays for the code that still names them through `render`.

pub use crate::manifest::names::*;
