//! Names of LINKTYPE_* values (tcpdump.org/linktypes.html), for reports and messages.

pub fn link_type_name(link_type: u32) -> &'static str {
    match link_type {
        0 => "NULL (BSD loopback)",
        1 => "ETHERNET",
        9 => "PPP",
        12 | 14 | 101 => "RAW (IP)",
        50 => "PPP_HDLC",
        51 => "PPP_ETHER (PPPoE)",
        104 => "C_HDLC (Cisco HDLC)",
        105 => "IEEE802_11",
        108 => "LOOP (OpenBSD loopback)",
        113 => "LINUX_SLL",
        119 => "PRISM_HEADER",
        127 => "IEEE802_11_RADIOTAP",
        192 => "PPI",
        204 => "PPP_WITH_DIR",
        228 => "IPV4",
        229 => "IPV6",
        239 => "NFLOG",
        258 => "PKTAP",
        274 => "ETHERNET_MPACKET",
        276 => "LINUX_SLL2",
        _ => "unknown",
    }
}
