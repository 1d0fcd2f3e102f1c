"""IP network functions: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets (as Terraform/Packer's go-cty-funcs)."""

from __future__ import annotations

import ipaddress

from imagesmith.hcl2.function import FunctionError, Param, make
from imagesmith.hcl2.types import NUMBER, STRING, ListType
from imagesmith.hcl2.values import Value, string_val

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(prefix: str) -> Network:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise FunctionError(f'invalid CIDR expression: invalid CIDR address: {prefix}', 0) from None


def _int(v: Value, arg: int) -> int:
    n = v.as_number()
    if n.denominator != 1:
        raise FunctionError("value must be a whole number", arg)
    return int(n)


def _cidrhost(args: list[Value]) -> Value:
    net = _network(args[0].as_str())
    host = _int(args[1], 1)
    size = net.num_addresses
    index = host if host >= 0 else size + host
    if not 0 <= index < size:
        raise FunctionError(f"prefix of {net.prefixlen} bits cannot accommodate a host numbered {host}", 1)
    return string_val(str(net.network_address + index))


def _cidrnetmask(args: list[Value]) -> Value:
    net = _network(args[0].as_str())
    if net.version != 4:
        raise FunctionError("only IPv4 networks are supported", 0)
    return string_val(str(net.netmask))


def _subnet(net: Network, newbits: int, num: int) -> Network:
    new_len = net.prefixlen + newbits
    if newbits < 0 or new_len > net.max_prefixlen:
        raise FunctionError(f"insufficient address space to extend prefix of {net.prefixlen} by {newbits}", 1)
    if not 0 <= num < (1 << newbits):
        raise FunctionError(f"prefix extension of {newbits} does not accommodate a subnet numbered {num}", 2)
    base = int(net.network_address) + (num << (net.max_prefixlen - new_len))
    return ipaddress.ip_network((base, new_len))


def _cidrsubnet(args: list[Value]) -> Value:
    net = _network(args[0].as_str())
    return string_val(str(_subnet(net, _int(args[1], 1), _int(args[2], 2))))


def _cidrsubnets(args: list[Value]) -> Value:
    net = _network(args[0].as_str())
    out: list[Value] = []
    next_addr = int(net.network_address)
    end = int(net.broadcast_address)
    for i, arg in enumerate(args[1:], 1):
        newbits = _int(arg, i)
        new_len = net.prefixlen + newbits
        if newbits < 1 or new_len > net.max_prefixlen:
            raise FunctionError(f"would extend prefix to {new_len} bits, which is too long for an IPv"
                                f"{net.version} address", i)
        step = 1 << (net.max_prefixlen - new_len)
        start = (next_addr + step - 1) // step * step
        if start + step - 1 > end:
            raise FunctionError(f"not enough remaining address space for a subnet with a prefix of {new_len} bits "
                                f"after {ipaddress.ip_address(next_addr - 1) if next_addr else net}", i)
        out.append(string_val(f"{ipaddress.ip_address(start)}/{new_len}" if net.version == 4 else
                              str(ipaddress.ip_network((start, new_len)))))
        next_addr = start + step
    return Value(ListType(STRING), out)


FUNCTIONS = {
    "cidrhost": make([Param("prefix", STRING), Param("hostnum", NUMBER)], STRING, _cidrhost),
    "cidrnetmask": make([Param("prefix", STRING)], STRING, _cidrnetmask),
    "cidrsubnet": make([Param("prefix", STRING), Param("newbits", NUMBER), Param("netnum", NUMBER)], STRING,
                       _cidrsubnet),
    "cidrsubnets": make([Param("prefix", STRING)], ListType(STRING), _cidrsubnets, Param("newbits", NUMBER)),
}
