//! Compliance routing by data class, asserted on what each upstream mock
//! received: a US deployment (`max_data_class: internal`), an EU one
//! (`confidential`) and a local one (`secret`) in one group, with a
//! fallback group in the US.

mod answer_guardrails;
mod audit_admin;
mod audit_trail;
mod data_classes;
mod guardrails;
mod messages_guardrails;
mod network;
