"""Writes the terraform.tfstate that `terraform apply -var gen=1` leaves in a bench
workspace (see gen() in run.sh), without applying: at 50,000 instances a real apply takes
hours, because Terraform rewrites the whole state as it goes. The structure is what
Terraform 1.15 writes for terraform_data (checked against a real apply at 1,000); ids are
deterministic UUID-shaped strings. The plan the bench times is still planned by the real
Terraform against this state.

    python3 gen-state.py MODULES OUT.tfstate
"""
import hashlib
import json
import sys

PROVIDER = 'provider["terraform.io/builtin/terraform"]'


def uuid(*parts):
    h = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def dyn(value):
    types = {str: "string", int: "number"}
    return {
        "value": value,
        "type": ["object", {k: types[type(v)] for k, v in sorted(value.items())}],
    }


def instance(id_, input_, triggers=None, key=None, sensitive=(), deps=None):
    inst = {}
    if key is not None:
        inst["index_key"] = key
    inst.update(
        schema_version=0,
        attributes={
            "id": id_,
            "input": dyn(input_),
            "output": dyn(input_),
            "triggers_replace": triggers,
        },
        sensitive_attributes=[
            [{"type": "get_attr", "value": "input"}, {"type": "get_attr", "value": s}]
            for s in sensitive
        ],
        identity_schema_version=0,
    )
    if deps:
        inst["dependencies"] = deps
    return inst


def resource(name, instances, module=None):
    r = {"module": module} if module else {}
    r.update(mode="managed", type="terraform_data", name=name, provider=PROVIDER, instances=instances)
    return r


def main():
    mods, out = int(sys.argv[1]), sys.argv[2]
    root_id = uuid("root")
    resources = [resource("root", [instance(root_id, {"owner": "bench", "region": "eu-west-1"})])]
    for i in range(mods):
        module = f"module.unit[{i}]"
        region = "us-east-1" if i % 7 == 0 else "eu-west-1"
        base_id = uuid(module, "base")
        base = instance(
            base_id,
            {"owner": "bench", "region": region, "upstream": root_id},
            triggers={"value": [1], "type": ["tuple", ["number"]]},
            deps=["terraform_data.root"],
        )
        items = [
            instance(
                uuid(module, "item", k),
                {"base": base_id, "owner": "bench", "region": region, "rev": 1, "secret": "bench-canary"},
                key=k,
                sensitive=["secret"],
                deps=["module.unit.terraform_data.base", "terraform_data.root"],
            )
            for k in range(9)
        ]
        resources.append(resource("base", [base], module))
        resources.append(resource("item", items, module))
    state = {
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": len(resources) * 5,
        "lineage": uuid("lineage", mods),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }
    with open(out, "w") as f:
        json.dump(state, f, indent=2)
        f.write("\n")


main()
