/* The HTML picture of a run (docs/traces.md "Pictures"): one self-contained page
 * (no network, no other file) with a zoomable timeline on the cycle clock: the
 * instructions, the blocking lanes, pending events, window controls and the
 * exits, whose decoded fields show on hover and on click. Written as a stream:
 * the data are script lines appended as the run goes, the drawing code comes
 * last. Long runs keep the boundaries where something changes (see
 * PIC_HTML_MAX_BOUNDARIES). */
#include <string.h>
#include "picture_internal.h"

/* Write a string into a script, with '<' escaped so no "</script>" can close it. */
static void js_text(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '<')
            fputs("\\u003c", f);
        else
            fputc(*s, f);
}

/* Write text inside a double-quoted JavaScript string. */
static void js_str(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '<')
            fputs("\\u003c", f);
        else if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
}

static const char *const style =
    "body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}"
    "h1{font-size:20px;margin:0 0 4px}#sum{color:#555;margin-bottom:8px}"
    "#bar button{margin-right:4px}#bar span{margin-left:8px;color:#555}"
    "#tl{background:#fff;border:1px solid #ccc;display:block;margin-top:6px;cursor:grab;user-select:none}"
    ".lane{font:12px monospace;fill:#333}.on{opacity:.85}.exit{cursor:pointer}.exit:hover{stroke:#000;stroke-width:2}"
    "#detail{margin-top:10px;background:#fff;border:1px solid #ccc;padding:8px;min-height:40px}"
    "#detail table{border-collapse:collapse;font:12px monospace}#detail td{padding:1px 8px 1px 0}"
    ".exit-row{font:12px monospace;padding:2px 4px;cursor:pointer}.exit-row:hover{background:#eef}"
    ".exit-row.sel{background:#dde}h2{font-size:16px;margin:12px 0 4px}";

/* The drawing code. Data: B = [[cycle, insns, "rip", bits, activity, action, winner, "note"]], X = [exit records]. */
static const char *const script =
    "const LN=[['instructions',-1,'#555'],['IF',0,'#2a7'],['blocking by STI',1,'#d62'],['blocking by MOV SS',2,'#c4a'],"
    "['blocking by NMI',3,'#a33'],['virtual-NMI blocking',4,'#a63'],['HLT (activity)',-2,'#57a'],"
    "['interrupt pending',5,'#27c'],['NMI pending',6,'#c22'],['interrupt-window exiting',7,'#4a4'],"
    "['NMI-window exiting',8,'#a4a'],['exits',-3,'#000']];\n"
    "const ACT=['exit','deliver','execute','idle'],ACTV=['active','HLT','shutdown','wait-for-SIPI'];\n"
    "const TY=['external interrupt','reserved','NMI','hardware exception','software interrupt',"
    "'privileged software exception','software exception','other event'];\n"
    "const svg=document.getElementById('tl'),NS='http://www.w3.org/2000/svg',LW=190,LH=24,W=1100;\n"
    "let t0=0,t1=1;\n"
    "function hx(s){return s===undefined?0:parseInt(s,16)}\n"
    "function exitAfter(t){let lo=0,hi=X.length;while(lo<hi){const m=(lo+hi)>>1;if(X[m].cycles<t)lo=m+1;else hi=m}"
    "return lo<X.length?X[lo].cycles:Infinity}\n"
    "function endT(){let e=B.length?B[B.length-1][0]:0;for(const x of X)e=Math.max(e,x.cycles);return e+1}\n"
    "function fit(){t0=B.length?B[0][0]:0;t1=endT();if(t1<=t0)t1=t0+1;draw()}\n"
    "function xp(t){return LW+(t-t0)/(t1-t0)*(W-LW-10)}\n"
    "function el(n,a,p){const e=document.createElementNS(NS,n);for(const k in a)e.setAttribute(k,a[k]);"
    "if(p)p.appendChild(e);return e}\n"
    "function tip(e,s){const t=el('title',{},e);t.textContent=s}\n"
    "function val(b,i){return i>=0?(b[3]>>i)&1:i==-2?(b[4]==1?1:0):0}\n"
    "function intr(v,ec){if(!(v>>>31))return 'none';let s=TY[(v>>8)&7]+' vector 0x'+(v&255).toString(16);"
    "if((v>>11)&1)s+=', error code 0x'+ec.toString(16);if((v>>12)&1)s+=', NMI unblocking';return s}\n"
    "function blk(v){const n=[];if(v&1)n.push('STI');if(v&2)n.push('MOV SS');if(v&4)n.push('SMI');"
    "if(v&8)n.push('NMI');return n.length?n.join(', '):'none'}\n"
    "function decode(x){const f=x.fields||{},r=hx(x.reason);const d=[['exit',x.index],"
    "['reason',x.reason_name+' ('+(r&0xffff)+')'+((r>>>31)?', VM-entry failure':'')],"
    "['qualification',f.EXIT_QUALIFICATION],['interruption',intr(hx(f.EXIT_INTR_INFO),hx(f.EXIT_INTR_ERROR_CODE))],"
    "['IDT vectoring',intr(hx(f.IDT_VECTORING_INFO),hx(f.IDT_VECTORING_ERROR_CODE))],"
    "['instruction length',hx(f.EXIT_INSTRUCTION_LEN)],['guest RIP',f.GUEST_RIP],['guest RFLAGS',f.GUEST_RFLAGS],"
    "['interruptibility',blk(hx(f.GUEST_INTERRUPTIBILITY))],['activity',ACTV[hx(f.GUEST_ACTIVITY_STATE)&3]],"
    "['instructions',x.instructions],['cycle',x.cycles]];return d}\n"
    "function show(i){const x=X[i],d=document.getElementById('detail');d.innerHTML='';"
    "const h=document.createElement('b');h.textContent='Exit '+x.index+': '+x.reason_name;d.appendChild(h);"
    "const t=document.createElement('table');for(const [k,v] of decode(x)){const r=t.insertRow();"
    "r.insertCell().textContent=k;r.insertCell().textContent=v===undefined?'':String(v)}d.appendChild(t);"
    "const det=document.createElement('details'),s=document.createElement('summary');s.textContent='every field';"
    "det.appendChild(s);const t2=document.createElement('table');for(const k in (x.fields||{})){const r=t2.insertRow();"
    "r.insertCell().textContent=k;r.insertCell().textContent=x.fields[k]}det.appendChild(t2);d.appendChild(det);"
    "document.querySelectorAll('.exit-row').forEach((e,j)=>e.classList.toggle('sel',j==i))}\n"
    "function draw(){svg.innerHTML='';const H=LH*(LN.length+1)+10;svg.setAttribute('width',W);"
    "svg.setAttribute('height',H);"
    "LN.forEach((l,k)=>{const y=10+k*LH;el('line',{x1:LW,x2:W-10,y1:y+LH-4,y2:y+LH-4,stroke:'#eee'},svg);"
    "const t=el('text',{x:4,y:y+LH-8,'class':'lane'},svg);t.textContent=l[0];});\n"
    "const vis=B.filter(b=>b[0]>=t0&&b[0]<=t1),step=Math.max(1,Math.ceil(vis.length/1500));\n"
    "LN.forEach((l,k)=>{if(l[1]==-1||l[1]==-3)return;const y=10+k*LH;let s=null;"
    "for(let i=0;i<B.length;i++){const b=B[i],v=val(b,l[1]);const n=Math.min(i+1<B.length?B[i+1][0]:endT(),exitAfter(b[0]));"
    "if(n<t0||b[0]>t1)continue;if(v){const a=Math.max(xp(b[0]),LW),e=Math.min(xp(n),W-10);"
    "const r=el('rect',{x:a,y:y+4,width:Math.max(e-a,1),height:LH-10,fill:l[2],'class':'on'},svg);"
    "tip(r,l[0]+' from cycle '+b[0])}}});\n"
    "const yi=10;for(let i=0;i<vis.length;i+=step){const b=vis[i];"
    "const c=el('rect',{x:xp(b[0]),y:yi+4,width:2,height:LH-10,fill:b[5]==2?'#555':b[5]==1?'#e80':b[5]==3?'#9ab':'#000'},svg);"
    "tip(c,'cycle '+b[0]+', instruction '+b[1]+', rip '+b[2]+', '+ACT[b[5]]+(b[7]?'\\n'+b[7]:''))}\n"
    "const ye=10+(LN.length-1)*LH;let nv=0;for(const x of X)if(x.cycles>=t0&&x.cycles<=t1)nv++;const dense=nv>150;"
    "X.forEach((x,i)=>{if(x.cycles<t0||x.cycles>t1)return;const px=xp(x.cycles);"
    "if(!dense)el('line',{x1:px,x2:px,y1:10,y2:ye+LH-4,stroke:'#0003'},svg);"
    "const c=el('circle',{cx:px,cy:ye+LH/2,r:dense?3:7,fill:'#e33','class':'exit'},svg);"
    "tip(c,decode(x).map(p=>p[0]+': '+p[1]).join('\\n'));c.addEventListener('click',()=>show(i))});\n"
    "document.getElementById('range').textContent='cycles '+Math.floor(t0)+' .. '+Math.ceil(t1)}\n"
    "function zoom(f,c){const m=c===undefined?(t0+t1)/2:c;let a=m-(m-t0)*f,b=m+(t1-m)*f;if(b-a<4){a=m-2;b=m+2}"
    "t0=a;t1=b;draw()}\n"
    "svg.addEventListener('wheel',e=>{e.preventDefault();const r=svg.getBoundingClientRect();"
    "const c=t0+(e.clientX-r.left-LW)/(W-LW-10)*(t1-t0);zoom(e.deltaY<0?0.8:1.25,c)},{passive:false});\n"
    "let drag=null;svg.addEventListener('mousedown',e=>{drag=[e.clientX,t0,t1]});"
    "window.addEventListener('mouseup',()=>{drag=null});"
    "window.addEventListener('mousemove',e=>{if(!drag)return;const d=(e.clientX-drag[0])/(W-LW-10)*(drag[2]-drag[1]);"
    "t0=drag[1]-d;t1=drag[2]-d;draw()});\n"
    "document.getElementById('zin').onclick=()=>zoom(0.5);document.getElementById('zout').onclick=()=>zoom(2);"
    "document.getElementById('zfit').onclick=fit;\n"
    "const list=document.getElementById('exits');X.forEach((x,i)=>{const d=document.createElement('div');"
    "d.className='exit-row';d.textContent='exit '+x.index+'  '+x.reason_name+'  rip '+(x.fields||{}).GUEST_RIP+"
    "'  instruction '+x.instructions+'  cycle '+x.cycles;d.onclick=()=>show(i);list.appendChild(d)});\n"
    "document.getElementById('sum').textContent=X.length+' exit'+(X.length==1?'':'s')+', '+SEEN+' boundaries'+"
    "(SEEN>B.length?' ('+B.length+' shown: the first 2000, then those after an entry or where a lane or the action changes)':'');\n"
    "fit();if(X.length)show(0);\n";

void html_header(vtx_picture *p, const char *title)
{
    FILE *f = p->out.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vtxref: ", f);
    for (const char *s = title; *s; s++)
        fputs(*s == '<' ? "&lt;" : *s == '&' ? "&amp;" : (char[2]){*s, 0}, f);
    fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>", style);
    for (const char *s = title; *s; s++)
        fputs(*s == '<' ? "&lt;" : *s == '&' ? "&amp;" : (char[2]){*s, 0}, f);
    fputs("</h1><div id=\"sum\"></div>\n<div id=\"bar\"><button id=\"zin\">zoom in</button><button id=\"zout\">zoom "
          "out</button><button id=\"zfit\">whole run</button><span id=\"range\"></span><span>(wheel: zoom, drag: "
          "pan, click an exit for its fields)</span></div>\n<svg id=\"tl\"></svg>\n<div id=\"detail\"></div>\n"
          "<h2>Exits</h2><div id=\"exits\"></div>\n<script>\nconst B=[],X=[];function b(a){B.push(a)}"
          "function x(o){X.push(o)}\n",
          f);
}

static uint32_t key_of(const vtx_boundary_report *b, const pic_lanes *l)
{
    return l->bits | l->activity << 9 | (uint32_t)b->action << 11 | (uint32_t)(b->winner + 1) << 13;
}

void html_boundary(vtx_picture *p, const vtx_boundary_report *b, const pic_lanes *l)
{
    p->seen++;
    uint32_t key = key_of(b, l);
    bool keep = p->seen <= 2000 || !p->have_prev || key != p->prev_key || b->action != VTX_ACT_EXECUTE ||
                b->after_entry;
    p->have_prev = true;
    p->prev_key = key;
    if (!keep || p->kept >= PIC_HTML_MAX_BOUNDARIES) {
        p->dropped += keep;
        return;
    }
    p->kept++;
    FILE *f = p->out.f;
    fprintf(f, "b([%llu,%llu,\"0x%llx\",%u,%u,%d,%d,\"", (unsigned long long)b->cycle,
            (unsigned long long)b->instructions, (unsigned long long)b->rip, l->bits, l->activity, (int)b->action,
            b->winner);
    bool first = true;
    for (int e = 0; e < VTX_EV_COUNT; e++) {
        const vtx_event_verdict *v = &b->events[e];
        if (v->state == VTX_EVS_IDLE)
            continue;
        static const char *const st[] = {"idle", "blocked", "beaten", "taken"};
        fprintf(f, "%s%s %s", first ? "" : "\\n", vtx_event_name((vtx_event)e), st[v->state]);
        if (v->rule || v->why) {
            fputs(" (", f);
            js_str(f, v->rule ? v->rule : "");
            fputs(v->rule && v->why ? ": " : "", f);
            js_str(f, v->why ? v->why : "");
            fputs(")", f);
        }
        first = false;
    }
    fputs("\"]);\n", f);
}

void html_exit(vtx_picture *p, json_object *j)
{
    fputs("x(", p->out.f);
    js_text(p->out.f, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fputs(");\n", p->out.f);
}

void html_footer(vtx_picture *p)
{
    fprintf(p->out.f, "const SEEN=%llu;\n</script>\n<script>\n%s</script>\n</body></html>\n",
            (unsigned long long)p->seen, script);
}
